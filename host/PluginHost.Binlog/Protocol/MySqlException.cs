namespace PluginHost.Binlog.Protocol;

/// <summary>
/// Base type of every exception raised by the MySQL/MariaDB client/server protocol layer.
/// </summary>
public class MySqlException : Exception
{
    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">Human readable description of the failure.</param>
    public MySqlException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">Human readable description of the failure.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public MySqlException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
