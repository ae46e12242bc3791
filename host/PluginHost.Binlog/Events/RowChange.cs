using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Events;

/// <summary>One changed row: the image before (update, delete) and after (insert, update), one value per table column.</summary>
public readonly record struct RowChange(ColumnValue[]? Before, ColumnValue[]? After);
