namespace PluginHost.Binlog.Protocol;

/// <summary>
/// The server refused to stream the binary log from the requested starting point (server error 1236,
/// ER_MASTER_FATAL_ERROR_READING_BINLOG): typically the binlog file was purged or never existed, or the
/// requested GTID position is no longer (or not) in the server's binary logs.
/// </summary>
public sealed class BinlogNotAvailableException : MySqlServerException
{
    /// <summary>The server error number this exception is raised for.</summary>
    public const int ErrorNumber = 1236;

    /// <summary>Creates the exception.</summary>
    /// <param name="errorCode">The server error number (normally 1236).</param>
    /// <param name="sqlState">The SQLSTATE sent by the server.</param>
    /// <param name="serverMessage">The server's error text.</param>
    /// <param name="requestedStart">Description of the requested start, e.g. "binlog file 'mysql-bin.000042' position 4".</param>
    /// <param name="endpoint">The server as "host:port".</param>
    public BinlogNotAvailableException(int errorCode, string sqlState, string serverMessage, string requestedStart, string endpoint)
        : base(errorCode, sqlState, serverMessage, BuildMessage(errorCode, serverMessage, requestedStart, endpoint))
    {
        RequestedStart = requestedStart;
        Endpoint = endpoint;
    }

    /// <summary>Description of the requested start position (file/position or GTID set).</summary>
    public string RequestedStart { get; }

    /// <summary>The server as "host:port".</summary>
    public string Endpoint { get; }

    private static string BuildMessage(int errorCode, string serverMessage, string requestedStart, string endpoint) =>
        $"The server {endpoint} cannot stream the binary log from the requested start ({requestedStart}): " +
        $"that position is no longer (or not) available on the server, e.g. because the binlog files were purged " +
        $"(server error {errorCode}: {serverMessage}). " +
        "Check SHOW BINARY LOGS / @@gtid_binlog_pos on the server. To recover, start again from a position the server still has " +
        "(which can lose changes: re-snapshot the affected tables), and raise binlog retention (binlog_expire_logs_seconds / expire_logs_days) " +
        "so that the reader cannot fall behind the purge again.";
}
