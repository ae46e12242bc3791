using System.Buffers;
using System.Text.Json;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Snapshots;

namespace PluginHost.Pipelines;

/// <summary>
/// Rows of a snapshot chunk held raw (<see cref="SnapshotRows"/>) as they go through the queue: the rows
/// <c>[start, start + count)</c> of the delivered ones, placed at <c>file:position</c> with the chunk's transaction id.
/// The writer makes them sdk events (<see cref="AddEvents"/>) exactly as the reader would have, or — no transform, a
/// sink that writes JSON lines — writes their JSON lines straight from the raw values (<see cref="Lines"/>). The
/// chunk's slices cover its delivered rows from the first on; each row taken is counted (<see cref="SnapshotRows.Taken"/>),
/// so the chunk's pooled arrays go back once the last one is written.
/// </summary>
internal sealed class SnapshotSlice
{
    private readonly SnapshotRows rows;
    private readonly IReadOnlyList<int>? delivered;
    private readonly int start, count;
    private readonly string file, transactionId;
    private readonly long position;
    private byte[]? _prefix, _suffix, _plans;
    private int _rowOverhead; // the most a row's JSON adds to its values' bytes when copied (SnapshotRowJson.TryCopy)
    private int _taken; // rows [0, _taken) of the slice were taken

    public SnapshotSlice(SnapshotRows rows, IReadOnlyList<int>? delivered, int start, int count, string file, long position, string transactionId)
    {
        (this.rows, this.delivered, this.start, this.count, this.file, this.position, this.transactionId) = (rows, delivered, start, count, file, position, transactionId);
        if (start == 0) rows.Expect(delivered?.Count ?? rows.Count); // the first slice of the chunk: its rows handed on
    }

    public int Count => count;

    public string Database => rows.Table.Database;

    public string Table => rows.Table.Table;

    public DateTimeOffset Timestamp => rows.Timestamp;

    /// <summary>True when <see cref="Lines"/> can write these rows.</summary>
    public bool CanWriteLines => SnapshotRowJson.Supports(rows.Table);

    private int RowAt(int k) => delivered?[start + k] ?? start + k;

    /// <summary>The events of rows <c>[from, count)</c> of the slice, as the reader makes snapshot events.</summary>
    public void AddEvents(List<ChangeEvent> into, int from = 0)
    {
        for (var k = from; k < count; k++) into.Add(EventAt(k));
        Take(from, count);
    }

    /// <summary>Rows <c>[from, to)</c> were taken; counted once each (a slice is taken from its start on, in order).</summary>
    private void Take(int from, int to)
    {
        if (from > _taken || to <= _taken) return;
        var n = to - _taken;
        _taken = to;
        rows.Taken(n);
    }

    private ChangeEvent EventAt(int k)
    {
        var e = rows.ToEvent(RowAt(k));
        e.File = file;
        e.Position = position;
        e.TransactionId = transactionId;
        e.IndexInTransaction = start + k;
        return e;
    }

    /// <summary>Rows <c>[from, from + n)</c> of the slice as JSON lines.</summary>
    public IEventLines Lines(int from, int n) => new Range(this, from, n);

    private void WriteLine(int k, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        if (_prefix is null) Envelope();
        var row = RowAt(k);
        // The line in one piece where every value is copied from the text; else through the JSON writer.
        var span = output.GetSpan(_prefix!.Length + _rowOverhead + rows.RowBytes(row) + _suffix!.Length);
        if (SnapshotRowJson.TryCopy(span[_prefix.Length..^_suffix.Length], rows, row, _plans!, out var n))
        {
            _prefix.CopyTo(span);
            _suffix.CopyTo(span[(_prefix.Length + n)..]);
            output.Advance(_prefix.Length + n + _suffix.Length);
            return;
        }
        output.Write(_prefix);
        writer.Reset(output);
        SnapshotRowJson.Write(writer, rows, row, _plans!);
        writer.Flush();
        output.Write(_suffix);
    }

    /// <summary>
    /// The event JSON around the row, the same for every row of the slice: the event writer's own output for an event of
    /// the slice with no row, split where its <c>after</c> value goes.
    /// </summary>
    private void Envelope()
    {
        var template = EventAt(0);
        template.After = null;
        var json = ChangeEventJson.SerializeToUtf8Bytes(template);
        var at = json.AsSpan().IndexOf("\"before\":null,\"after\":"u8) + "\"before\":null,\"after\":"u8.Length;
        if (!json.AsSpan(at).StartsWith("null"u8)) throw new InvalidOperationException("unexpected event JSON: " + System.Text.Encoding.UTF8.GetString(json));
        _plans = SnapshotRowJson.Plans(rows);
        _rowOverhead = 2 + rows.Table.Info.JsonNames.Sum(name => name.EncodedUtf8Bytes.Length + 10);
        _suffix = json[(at + 4)..];
        _prefix = json[..at];
    }

    private sealed class Range(SnapshotSlice slice, int from, int n) : IEventLines
    {
        private int _written;

        public int Count => n;

        public void Write(int index, Utf8JsonWriter writer, IBufferWriter<byte> output)
        {
            slice.WriteLine(from + index, writer, output);
            if (++_written == n) slice.Take(from, from + n); // every line of the range is in the sink's buffer
        }
    }
}
