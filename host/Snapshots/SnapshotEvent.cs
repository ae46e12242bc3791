using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>The sdk event of a snapshot row, as both the chunk reader and <see cref="SnapshotRows"/> make it.</summary>
internal static class SnapshotEvent
{
    /// <summary>
    /// An event with op read: <c>after</c> holds each column's value (<paramref name="valueAt"/>, in the table's own row
    /// layout where it has one), placed at <paramref name="position"/>, row <paramref name="index"/> of its chunk.
    /// </summary>
    public static ChangeEvent Create<TState>(SnapshotTable table, SnapshotPosition position, DateTimeOffset timestamp, int index,
        TState state, Func<TState, int, object?> valueAt)
    {
        var columns = table.Columns;
        Row after;
        if (table.Info.RowLayout is { } layout)
        {
            var values = new object?[columns.Count + 1]; // room for one column a transform adds, as the stream's rows
            for (var c = 0; c < columns.Count; c++) values[c] = valueAt(state, c);
            after = new Row(layout, values);
        }
        else
        {
            after = new Row(columns.Count);
            for (var c = 0; c < columns.Count; c++) after.Add(columns[c].Name, valueAt(state, c));
        }
        return new ChangeEvent
        {
            Op = ChangeOperation.Read,
            Database = table.Database,
            Table = table.Table,
            After = after,
            Schema = table.Info,
            File = position.File,
            Position = position.Offset,
            Gtid = position.Gtid,
            Timestamp = timestamp,
            IndexInTransaction = index,
        };
    }
}
