namespace PluginHost.Binlog.Protocol;

/// <summary>
/// An error reported by the server in an ERR packet (for example 1049 "Unknown database" or
/// 1064 "You have an error in your SQL syntax"). The command that produced it is finished, so the
/// connection stays usable afterwards.
/// </summary>
public class MySqlServerException : MySqlException
{
    /// <summary>Creates an exception from the fields of an ERR packet.</summary>
    /// <param name="errorCode">The server error number, e.g. 1045.</param>
    /// <param name="sqlState">The five character SQLSTATE, e.g. "28000" (may be "HY000" when the server sent none).</param>
    /// <param name="serverMessage">The error message exactly as sent by the server.</param>
    public MySqlServerException(int errorCode, string sqlState, string serverMessage)
        : this(errorCode, sqlState, serverMessage, $"Server error {errorCode} ({sqlState}): {serverMessage}")
    {
    }

    /// <summary>Creates an exception from the fields of an ERR packet with a custom, more explanatory message.</summary>
    /// <param name="errorCode">The server error number.</param>
    /// <param name="sqlState">The five character SQLSTATE.</param>
    /// <param name="serverMessage">The error message exactly as sent by the server.</param>
    /// <param name="message">The message of this exception.</param>
    public MySqlServerException(int errorCode, string sqlState, string serverMessage, string message)
        : base(message)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
        ServerMessage = serverMessage;
    }

    /// <summary>The server error number (e.g. 1045 access denied, 1049 unknown database, 1236 binlog error).</summary>
    public int ErrorCode { get; }

    /// <summary>The five character SQLSTATE sent with the error.</summary>
    public string SqlState { get; }

    /// <summary>The error text exactly as sent by the server.</summary>
    public string ServerMessage { get; }
}
