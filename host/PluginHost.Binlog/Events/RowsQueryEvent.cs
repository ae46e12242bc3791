namespace PluginHost.Binlog.Events;

/// <summary>MySQL ROWS_QUERY_EVENT or MariaDB ANNOTATE_ROWS_EVENT: the SQL text that produced the row events that follow.</summary>
public sealed class RowsQueryEvent(BinlogEventHeader header, string query) : BinlogEvent(header)
{
    public string Query { get; } = query;
}
