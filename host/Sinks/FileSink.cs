using System.Buffers;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>
/// Appends events as JSON Lines (the event JSON, one per line). Each batch is written to the file at once (readable
/// by others) and acknowledged once an fsync that began after it has returned (group commit on a thread of its own,
/// <see cref="FileSync"/>), so the pipeline checkpoints only what is on disk without waiting on the disk itself.
/// <see cref="FlushAsync"/> writes and fsyncs at once.
/// </summary>
internal sealed class FileSink : IAcknowledgingSink, IEventLinesSink
{
    private readonly Stream _stream;
    private readonly bool _fsync;
    private readonly bool _isFile;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _writer;
    private readonly FileSync? _sync;

    public FileSink(string path, bool fsync = true)
    {
        if (path == "-")
        {
            _stream = Console.OpenStandardOutput();
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            if (!File.Exists(path)) FileSinkMarker.Write(path); // ours from the first byte: the marker comes first
            if (FileSinkMarker.Exists(path)) RepairTornLine(path);
            else Foreign = true;
            _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1);
            if (Foreign) EndLastLine();
            _isFile = true;
        }
        _fsync = fsync;
        _writer = new Utf8JsonWriter(_buffer, ChangeEventJson.WriterOptions);
        if (_isFile && _fsync) _sync = new FileSync(((FileStream)_stream).SafeFileHandle);
    }

    /// <summary>fsyncs done for acknowledgements so far (tests).</summary>
    internal long Syncs => _sync?.Syncs ?? 0;

    /// <summary>
    /// The file existed without our marker (<see cref="FileSinkMarker"/>): the sink did not create it, so nothing in it
    /// is cut; events are appended after a line break when the file did not end in one.
    /// </summary>
    public bool Foreign { get; }

    private void EndLastLine()
    {
        if (_stream.Length == 0) return;
        using var read = new FileStream(((FileStream)_stream).Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Position = read.Length - 1;
        if (read.ReadByte() != '\n') _stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// After a crash the file may end in a partly written line. Those events were never checkpointed, so they will be
    /// delivered again: cut the partial line off so every line stays one whole event. Only for files the sink created
    /// (with their marker): a file it did not create is never truncated.
    /// </summary>
    internal static void RepairTornLine(string path)
    {
        if (!File.Exists(path)) return;
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        if (f.Length == 0) return;
        var buffer = new byte[64 * 1024];
        var end = f.Length;
        while (end > 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var n = (int)(end - start);
            f.Position = start;
            f.ReadExactly(buffer, 0, n);
            var i = buffer.AsSpan(0, n).LastIndexOf((byte)'\n');
            if (i >= 0)
            {
                var keep = start + i + 1;
                if (keep != f.Length) f.SetLength(keep);
                return;
            }
            end = start;
        }
        f.SetLength(0);
    }

    public ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        WriteLines(batch);
        return Acknowledge();
    }

    private ValueTask<Task> Acknowledge()
    {
        Drain(); // visible to readers now; durable after the next fsync
        if (_sync is null)
        {
            _stream.Flush();
            return ValueTask.FromResult(Task.CompletedTask);
        }
        return ValueTask.FromResult(_sync.Request());
    }

    public ValueTask<Task> SendLinesAsync(IEventLines lines, CancellationToken cancellationToken)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            _writer.Reset(_buffer);
            lines.Write(i, _writer, _buffer);
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            if (_buffer.WrittenCount >= 1 << 20) Drain();
        }
        _writer.Reset(_buffer);
        return Acknowledge();
    }

    public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        WriteLines(batch);
        return ValueTask.CompletedTask;
    }

    private void WriteLines(IReadOnlyList<ChangeEvent> batch)
    {
        foreach (var e in batch)
        {
            ChangeEventJson.Write(_writer, e);
            _writer.Flush();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            _writer.Reset(_buffer);
            if (_buffer.WrittenCount >= 1 << 20) Drain();
        }
        Drain(); // visible to readers now; durable after the next fsync
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        Drain();
        if (_isFile && _fsync) ((FileStream)_stream).Flush(flushToDisk: true);
        else _stream.Flush();
        return ValueTask.CompletedTask;
    }

    private void Drain()
    {
        if (_buffer.WrittenCount == 0) return;
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
    }

    public ValueTask DisposeAsync()
    {
        _sync?.Dispose();
        Drain();
        _stream.Flush();
        _writer.Dispose();
        if (_isFile) _stream.Dispose();
        return ValueTask.CompletedTask;
    }
}
