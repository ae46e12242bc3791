namespace PluginHost.Binlog.Events;

/// <summary>QUERY_EVENT: a statement (DDL, or BEGIN/COMMIT around row events).</summary>
public sealed class QueryEvent(BinlogEventHeader header, uint threadId, uint executionTime, ushort errorCode, string database, string sql)
    : BinlogEvent(header)
{
    public uint ThreadId { get; } = threadId;
    public uint ExecutionTime { get; } = executionTime;
    public ushort ErrorCode { get; } = errorCode;

    /// <summary>The default database of the statement.</summary>
    public string Database { get; } = database;
    public string Sql { get; } = sql;

    /// <summary>True for <c>BEGIN</c>, which opens a transaction.</summary>
    public bool IsBegin => Sql.Equals("BEGIN", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for <c>COMMIT</c> (non-transactional engines end their group with a COMMIT query).</summary>
    public bool IsCommit => Sql.Equals("COMMIT", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for <c>ROLLBACK</c> (not <c>ROLLBACK TO savepoint</c>, which stays inside the transaction).</summary>
    public bool IsRollback => Sql.StartsWith("ROLLBACK", StringComparison.OrdinalIgnoreCase) &&
                              !Sql.AsSpan(8).TrimStart().StartsWith("TO", StringComparison.OrdinalIgnoreCase);
}
