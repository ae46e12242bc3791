namespace PluginHost.Binlog.Protocol;

/// <summary>
/// The server sent something this client cannot understand: malformed packet, out of order
/// sequence id, unexpected packet type, unsupported protocol version. The connection is unusable afterwards.
/// </summary>
public sealed class MySqlProtocolException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Description of the protocol violation.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public MySqlProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
