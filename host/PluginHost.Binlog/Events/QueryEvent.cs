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

    /// <summary>
    /// True for a statement that may change what information_schema says about a table: <c>CREATE</c>, <c>ALTER</c>,
    /// <c>DROP</c>, <c>RENAME</c> (tables, columns, indexes, checks), and <c>GRANT</c>/<c>REVOKE</c> (which tables the
    /// user can see), after leading blanks and comments (an executable comment <c>/*!50100 …</c> counts as its text).
    /// Not <c>SAVEPOINT</c>, <c>ROLLBACK TO</c>, <c>XA …</c> or any other statement logged inside or around transactions,
    /// which must not drop cached schemas on every transaction of an application that uses savepoints.
    /// </summary>
    public bool IsSchemaChange => FirstKeywordIsSchemaChange(Sql);

    internal static bool FirstKeywordIsSchemaChange(string sql)
    {
        var s = sql.AsSpan();
        while (true)
        {
            s = s.TrimStart();
            if (s.StartsWith("/*!") || s.StartsWith("/*M!"))
            {
                s = s[(s[2] == 'M' ? 4 : 3)..];
                while (s.Length > 0 && char.IsAsciiDigit(s[0])) s = s[1..]; // the version: the text after it is the statement
            }
            else if (s.StartsWith("/*"))
            {
                var end = s.IndexOf("*/");
                if (end < 0) return false;
                s = s[(end + 2)..];
            }
            else if (s.StartsWith("#") || s.StartsWith("-- "))
            {
                var end = s.IndexOf('\n');
                if (end < 0) return false;
                s = s[(end + 1)..];
            }
            else break;
        }
        var length = 0;
        while (length < s.Length && char.IsAsciiLetter(s[length])) length++;
        var keyword = s[..length];
        foreach (var k in (ReadOnlySpan<string>)["CREATE", "ALTER", "DROP", "RENAME", "GRANT", "REVOKE"])
            if (keyword.Equals(k, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
