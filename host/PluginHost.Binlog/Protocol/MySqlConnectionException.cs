namespace PluginHost.Binlog.Protocol;

/// <summary>
/// The network connection could not be established or was lost: DNS failure, connection refused,
/// connect or read timeout, TLS negotiation or certificate failure, or the server closing the socket.
/// The connection is unusable after this exception.
/// </summary>
public sealed class MySqlConnectionException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Explanation, naming the endpoint as "host:port".</param>
    /// <param name="innerException">The underlying socket, I/O or authentication exception, if any.</param>
    /// <param name="isTimeout">True when the failure is a connect or read timeout.</param>
    public MySqlConnectionException(string message, Exception? innerException = null, bool isTimeout = false)
        : base(message, innerException)
    {
        IsTimeout = isTimeout;
    }

    /// <summary>True when no data arrived in time (connect timeout or read timeout / dead connection).</summary>
    public bool IsTimeout { get; }
}
