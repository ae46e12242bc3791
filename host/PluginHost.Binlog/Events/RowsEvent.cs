namespace PluginHost.Binlog.Events;

/// <summary>WRITE/UPDATE/DELETE_ROWS_EVENT (v1 or v2, MySQL partial JSON updates included): changed rows of one table.</summary>
public sealed class RowsEvent(BinlogEventHeader header, RowChangeKind kind, TableMapEvent table, ushort flags, RowChange[] rows)
    : BinlogEvent(header)
{
    public RowChangeKind Kind { get; } = kind;

    /// <summary>The table map the rows refer to.</summary>
    public TableMapEvent Table { get; } = table;
    public ushort Flags { get; } = flags;

    /// <summary>The changed rows, in order.</summary>
    public IReadOnlyList<RowChange> Rows { get; } = rows;

    /// <summary>The last rows event of a statement (STMT_END_F).</summary>
    public bool IsStatementEnd => (Flags & 1) != 0;
}
