using PluginHost.Binlog.Protocol;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// A chunk's rows as the server sent them (text-protocol values, copied into one buffer): about a third of the memory of
/// sdk events. Each row becomes an sdk event (<see cref="ToEvent"/>) or its JSON (<see cref="SnapshotRowJson"/>) only
/// where it is written, with exactly the values of <see cref="SnapshotValues"/>.
/// </summary>
internal sealed class SnapshotRows
{
    private readonly int _columns;
    private byte[] _data;
    private int _used;
    private int[] _starts; // per value (row * columns + column); length -1: NULL
    private int[] _lengths;

    public SnapshotRows(SnapshotTable table, int[] collations, SnapshotPosition position, DateTimeOffset timestamp, int capacity)
    {
        Table = table;
        Collations = collations;
        Position = position;
        Timestamp = timestamp;
        _columns = table.Columns.Count;
        capacity = Math.Clamp(capacity, 1, 65_536);
        _starts = new int[capacity * _columns];
        _lengths = new int[capacity * _columns];
        _data = new byte[Math.Min(capacity * 64, 1 << 20)];
    }

    public SnapshotTable Table { get; }

    /// <summary>The result columns' collations (the charset each value's bytes are in).</summary>
    public int[] Collations { get; }

    /// <summary>The position the rows are consistent with (exact), or the low watermark; events carry its GTID.</summary>
    public SnapshotPosition Position { get; }

    /// <summary>When the chunk was read (whole seconds): the events' <c>ts</c>.</summary>
    public DateTimeOffset Timestamp { get; }

    public int Count { get; private set; }

    /// <summary>Bytes of the values held.</summary>
    public long DataBytes => _used;

    public bool IsNull(int row, int column) => _lengths[row * _columns + column] < 0;

    /// <summary>The raw bytes of a value (empty for NULL).</summary>
    public ReadOnlySpan<byte> Value(int row, int column)
    {
        var i = row * _columns + column;
        return _lengths[i] < 0 ? default : _data.AsSpan(_starts[i], _lengths[i]);
    }

    /// <summary>Copies a row's values (the reader reuses <paramref name="row"/>).</summary>
    public void Add(RawRow row)
    {
        var at = Count * _columns;
        if (at + _columns > _starts.Length)
        {
            Array.Resize(ref _starts, _starts.Length * 2);
            Array.Resize(ref _lengths, _lengths.Length * 2);
        }
        for (var c = 0; c < _columns; c++)
        {
            if (row.IsNull(c))
            {
                _lengths[at + c] = -1;
                continue;
            }
            var value = row[c];
            if (_used + value.Length > _data.Length) Array.Resize(ref _data, Math.Max(_used + value.Length, _data.Length * 2));
            value.CopyTo(_data.AsSpan(_used));
            _starts[at + c] = _used;
            _lengths[at + c] = value.Length;
            _used += value.Length;
        }
        Count++;
    }

    /// <summary>The sdk value of one column of a row.</summary>
    public object? ValueObject(int row, int column) =>
        IsNull(row, column) ? null : SnapshotValues.ToObject(Table.Columns[column], Value(row, column), Collations[column]);

    /// <summary>The row as the sdk event the chunk reader makes of it (<see cref="ChunkReader"/>), with op read.</summary>
    public ChangeEvent ToEvent(int row)
    {
        var columns = Table.Columns;
        Row after;
        if (Table.Info.RowLayout is { } layout)
        {
            var values = new object?[columns.Count + 1]; // room for one column a transform adds, as the stream's rows
            for (var c = 0; c < columns.Count; c++) values[c] = ValueObject(row, c);
            after = new Row(layout, values);
        }
        else
        {
            after = new Row(columns.Count);
            for (var c = 0; c < columns.Count; c++) after.Add(columns[c].Name, ValueObject(row, c));
        }
        return new ChangeEvent
        {
            Op = ChangeOperation.Read,
            Database = Table.Database,
            Table = Table.Table,
            After = after,
            Schema = Table.Info,
            File = Position.File,
            Position = Position.Offset,
            Gtid = Position.Gtid,
            Timestamp = Timestamp,
            IndexInTransaction = row,
        };
    }
}
