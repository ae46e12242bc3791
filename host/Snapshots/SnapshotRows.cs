using System.Buffers;
using PluginHost.Binlog.Protocol;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// A chunk's rows as the server sent them (text-protocol values, copied into one buffer): about a third of the memory of
/// sdk events. Each row becomes an sdk event (<see cref="ToEvent"/>) or its JSON (<see cref="SnapshotRowJson"/>) only
/// where it is written, with exactly the values of <see cref="SnapshotValues"/>. A pipeline's chunks keep their values
/// in pooled arrays (<c>pooled</c>), given back once every row handed on was taken (<see cref="Expect"/>,
/// <see cref="Taken"/>): a chunk's arrays are large (a million rows in chunks of 10,000 allocated about 250 MB of them),
/// and allocated per chunk they made every garbage collection a full one.
/// </summary>
internal sealed class SnapshotRows
{
    private readonly int _columns;
    private readonly bool _pooled;
    private byte[] _data;
    private int _used;
    private int[] _starts; // per value (row * columns + column); length -1: NULL
    private int[] _lengths;
    private int _outstanding, _expected;

    /// <param name="pooled">The arrays come from (and go back to) the shared pools: only rows whose every row handed on is
    /// taken exactly once (a pipeline's chunks) may be pooled; others are left to the garbage collector.</param>
    /// <param name="bytesPerRow">The expected size of a row's values (the table's last chunk), to size the value buffer.</param>
    public SnapshotRows(SnapshotTable table, int[] collations, SnapshotPosition position, DateTimeOffset timestamp, int capacity,
        bool pooled = false, int bytesPerRow = 64)
    {
        Table = table;
        Collations = collations;
        Position = position;
        Timestamp = timestamp;
        _columns = table.Columns.Count;
        _pooled = pooled;
        capacity = Math.Clamp(capacity, 1, 65_536);
        _starts = Ints(capacity * _columns);
        _lengths = Ints(capacity * _columns);
        _data = Bytes((int)Math.Min((long)capacity * Math.Max(16, bytesPerRow + bytesPerRow / 8), 1 << 20));
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

    /// <summary>Bytes of a row's values.</summary>
    public int RowBytes(int row)
    {
        var n = 0;
        for (int i = row * _columns, end = i + _columns; i < end; i++) n += Math.Max(0, _lengths[i]);
        return n;
    }

    /// <summary>Copies a row's values (the reader reuses <paramref name="row"/>).</summary>
    public void Add(RawRow row)
    {
        var at = Count * _columns;
        if (at + _columns > _starts.Length)
        {
            _starts = Grow(_starts, _starts.Length * 2, at);
            _lengths = Grow(_lengths, _lengths.Length * 2, at);
        }
        // The packet whole, in one copy (its length bytes too): each value is where the packet had it.
        var packet = row.Packet;
        if (_used + packet.Length > _data.Length) _data = Grow(_data, Math.Max(_used + packet.Length, _data.Length * 2), _used);
        packet.CopyTo(_data.AsSpan(_used));
        for (var c = 0; c < _columns; c++)
        {
            _starts[at + c] = _used + row.OffsetOf(c);
            _lengths[at + c] = row.LengthOf(c);
        }
        _used += packet.Length;
        Count++;
    }

    /// <summary>
    /// The rows handed on (all of them, or those the window let through): once that many were taken, the arrays go back
    /// to the pool. Counted once; rows never handed on leave the arrays to the garbage collector.
    /// </summary>
    public void Expect(int rows)
    {
        if (!_pooled || rows <= 0 || Interlocked.Exchange(ref _expected, 1) != 0) return;
        if (Interlocked.Add(ref _outstanding, rows) == 0) Release();
    }

    /// <summary><paramref name="rows"/> rows were taken (written as JSON or made events): their values are no longer read.</summary>
    public void Taken(int rows)
    {
        if (_pooled && rows > 0 && Interlocked.Add(ref _outstanding, -rows) == 0 && Volatile.Read(ref _expected) != 0) Release();
    }

    /// <summary>The arrays went back to the pool (tests).</summary>
    internal bool Released => _data is null;

    private void Release()
    {
        ArrayPool<byte>.Shared.Return(_data);
        ArrayPool<int>.Shared.Return(_starts);
        ArrayPool<int>.Shared.Return(_lengths);
        // Any later read fails loudly instead of reading another chunk's values.
        _data = null!;
        _starts = null!;
        _lengths = null!;
    }

    private int[] Ints(int length) => _pooled ? ArrayPool<int>.Shared.Rent(length) : GC.AllocateUninitializedArray<int>(length);

    private byte[] Bytes(int length) => _pooled ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);

    private T[] Grow<T>(T[] old, int length, int used)
    {
        var next = typeof(T) == typeof(byte) ? (T[])(object)Bytes(length) : (T[])(object)Ints(length);
        old.AsSpan(0, used).CopyTo(next);
        if (_pooled) ArrayPool<T>.Shared.Return(old);
        return next;
    }

    /// <summary>The sdk value of one column of a row.</summary>
    public object? ValueObject(int row, int column) =>
        IsNull(row, column) ? null : SnapshotValues.ToObject(Table.Columns[column], Value(row, column), Collations[column]);

    /// <summary>The row as the sdk event the chunk reader makes of it (<see cref="ChunkReader"/>), with op read.</summary>
    public ChangeEvent ToEvent(int row) =>
        SnapshotEvent.Create(Table, Position, Timestamp, row, (Rows: this, Row: row), static (s, c) => s.Rows.ValueObject(s.Row, c));
}
