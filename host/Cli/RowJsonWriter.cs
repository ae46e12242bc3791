using System.Globalization;
using System.Runtime.CompilerServices;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Cli;

/// <summary>
/// Writes the rows of decoded binlog events as JSON lines, tracking the GTID of the current transaction. The lines are
/// put together as UTF-8 bytes in one buffer: names and each event's trailing fields encoded once, common values by
/// <see cref="ColumnValueUtf8"/>, the rest by <see cref="JsonFallback"/>; nothing is allocated per row.
/// </summary>
internal sealed class RowJsonWriter(Stream output, string fileName)
{
    private const int FlushAt = 1 << 17;

    private readonly Dictionary<ulong, EncodedTable> _tables = [];
    private byte[] _buffer = new byte[FlushAt * 2];
    private int _length;
    private byte[] _gtid = "null"u8.ToArray();
    private byte[] _file = Quote(fileName);
    private uint _tsSeconds = uint.MaxValue;
    private byte[] _ts = [];
    private byte[] _tail = new byte[512];
    private int _tailLength;
    private JsonFallback? _fallback;

    /// <summary>A string as a quoted JSON string, escaped as the event JSON escapes.</summary>
    private static byte[] Quote(string text, byte after = 0)
    {
        var quoted = new byte[text.Length + (after == 0 ? 2 : 3)];
        quoted[0] = quoted[text.Length + 1] = (byte)'"';
        for (var i = 0; i < text.Length; i++)
        {
            // Printable ASCII but the quote and the backslash is written as it is; the rest is the encoder's.
            if (text[i] is < ' ' or > '~' or '"' or '\\') return JsonFallback.Quote(text, after);
            quoted[i + 1] = (byte)text[i];
        }
        if (after != 0) quoted[^1] = after;
        return quoted;
    }

    /// <summary>A table's names JSON-encoded once (a table map is repeated before every rows event; its names rarely change).</summary>
    private sealed class EncodedTable
    {
        public EncodedTable(TableMapEvent map)
        {
            Map = map;
            var common = $",\"database\":{Utf8(Quote(map.Database))},\"table\":{Utf8(Quote(map.Table))},\"before\":";
            Prefixes = [Prefix("insert"), Prefix("update"), Prefix("delete")];
            Columns = new byte[map.Columns.Count][];
            for (var i = 0; i < Columns.Length; i++) Columns[i] = Quote(map.Columns[i].Name ?? "@" + (i + 1), (byte)':');
            byte[] Prefix(string op) => System.Text.Encoding.UTF8.GetBytes($"{{\"op\":\"{op}\"{common}");
            static string Utf8(byte[] b) => System.Text.Encoding.UTF8.GetString(b);
        }

        public TableMapEvent Map { get; private set; }

        /// <summary><c>{"op":…,"database":…,"table":…,"before":</c> by <see cref="RowChangeKind"/>.</summary>
        public byte[][] Prefixes { get; }

        /// <summary><c>"name":</c> of each column.</summary>
        public byte[][] Columns { get; }

        public bool Describes(TableMapEvent other)
        {
            if (ReferenceEquals(other, Map)) return true;
            if (other.Database != Map.Database || other.Table != Map.Table || other.Columns.Count != Map.Columns.Count) return false;
            for (var i = 0; i < other.Columns.Count; i++)
                if (other.Columns[i].Name != Map.Columns[i].Name) return false;
            Map = other;
            return true;
        }
    }

    private EncodedTable Encoded(TableMapEvent map)
    {
        if (_tables.TryGetValue(map.TableId, out var t) && t.Describes(map)) return t;
        return _tables[map.TableId] = new EncodedTable(map);
    }

    /// <summary>Rows written.</summary>
    public long Rows { get; private set; }

    /// <summary>Writes what is buffered to the output stream.</summary>
    public void Flush()
    {
        output.Write(_buffer, 0, _length);
        _length = 0;
    }

    public void Handle(BinlogEvent e)
    {
        switch (e)
        {
            case MariaDbGtidEvent g: _gtid = Quote(g.Gtid); break;
            case MySqlGtidEvent g: _gtid = g.Gtid is { } text ? Quote(text) : "null"u8.ToArray(); break;
            case RotateEvent r when !r.IsArtificial: _file = Quote(r.NextFile); break;
            case TransactionPayloadEvent p:
                foreach (var inner in p.Events)
                    if (inner is RowsEvent ir) Write(ir, e.Header);
                break;
            case RowsEvent rows: Write(rows, rows.Header); break;
        }
    }

    /// <summary>Writes the rows of a rows event decoded into a batch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Write(RowBatch batch)
    {
        var table = Encoded(batch.Table);
        var prefix = table.Prefixes[(int)batch.Kind];
        SetTail(batch.Header, batch.Header.Position);
        for (var i = 0; i < batch.Count; i++)
            WriteRow(table, prefix, batch.Kind != RowChangeKind.Insert, batch.Before(i), batch.Kind != RowChangeKind.Delete, batch.After(i));
    }

    private void Write(RowsEvent rows, BinlogEventHeader position)
    {
        var table = Encoded(rows.Table);
        var prefix = table.Prefixes[(int)rows.Kind];
        SetTail(rows.Header, position.Position);
        foreach (var row in rows.Rows)
            WriteRow(table, prefix, row.Before != null, row.Before, row.After != null, row.After);
    }

    /// <summary>The fields after the images, alike for every row of an event: <c>,"gtid":…,"file":…,"pos":…,"ts":…}</c> and the newline.</summary>
    private void SetTail(BinlogEventHeader header, long position)
    {
        if (header.Timestamp != _tsSeconds)
        {
            _tsSeconds = header.Timestamp;
            Span<byte> ts = stackalloc byte[32];
            DateTime.UnixEpoch.AddSeconds(header.Timestamp).TryFormat(ts, out var n, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            _ts = [(byte)'"', .. ts[..n], (byte)'"'];
        }
        var room = _gtid.Length + _file.Length + _ts.Length + 64;
        if (_tail.Length < room) _tail = new byte[room];
        var tail = _tail.AsSpan();
        var at = Put(tail, 0, ",\"gtid\":"u8);
        at = Put(tail, at, _gtid);
        at = Put(tail, at, ",\"file\":"u8);
        at = Put(tail, at, _file);
        at = Put(tail, at, ",\"pos\":"u8);
        position.TryFormat(tail[at..], out var written, default, CultureInfo.InvariantCulture);
        at = Put(tail, at + written, ",\"ts\":"u8);
        at = Put(tail, at, _ts);
        _tailLength = Put(tail, at, "}\n"u8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Put(Span<byte> to, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(to[at..]);
        return at + bytes.Length;
    }

    /// <summary>One JSON line; a value that fails to write leaves no part of its line behind.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteRow(EncodedTable table, byte[] prefix, bool hasBefore, ReadOnlySpan<ColumnValue> before, bool hasAfter,
        ReadOnlySpan<ColumnValue> after)
    {
        var start = _length;
        try
        {
            Append(prefix);
            WriteImage(table, hasBefore, before);
            Append(",\"after\":"u8);
            WriteImage(table, hasAfter, after);
            Append(_tail.AsSpan(0, _tailLength));
        }
        catch
        {
            _length = start;
            throw;
        }
        Rows++;
        if (_length >= FlushAt) Flush();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteImage(EncodedTable table, bool present, ReadOnlySpan<ColumnValue> image)
    {
        if (!present)
        {
            Append("null"u8);
            return;
        }
        Append("{"u8);
        var first = true;
        var names = table.Columns;
        for (var i = 0; i < image.Length; i++)
        {
            ref readonly var value = ref image[i];
            if (value.IsMissing) continue;
            var name = names[i];
            var room = name.Length + 1 + ColumnValueUtf8.RoomFor(value);
            if (_buffer.Length - _length < room) Grow(room);
            var to = _buffer.AsSpan(_length);
            var at = 0;
            if (!first) to[at++] = (byte)',';
            first = false;
            name.CopyTo(to[at..]);
            at += name.Length;
            var n = ColumnValueUtf8.TryWrite(value, to[at..]);
            if (n < 0)
            {
                _length += at;
                Append((_fallback ??= new JsonFallback()).Write(value));
            }
            else _length += at + n;
        }
        Append("}"u8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_buffer.Length - _length < bytes.Length) Grow(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Makes room for <paramref name="needed"/> more bytes: a line is kept whole in the buffer.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int needed) => Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max(_buffer.Length * 2L, (long)_length + needed)));
}
