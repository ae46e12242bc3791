using System.Buffers;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>
/// Appends events as JSON Lines (the event JSON, one per line). Writes are buffered; <see cref="FlushAsync"/>
/// writes the buffer and fsyncs the file, which the pipeline does before every checkpoint.
/// </summary>
public sealed class FileSink : ISink
{
    private readonly Stream _stream;
    private readonly bool _fsync;
    private readonly bool _isFile;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter _writer;

    public FileSink(string path, bool fsync = true)
    {
        if (path == "-")
        {
            _stream = Console.OpenStandardOutput();
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1);
            _isFile = true;
        }
        _fsync = fsync;
        _writer = new Utf8JsonWriter(_buffer, ChangeEventJson.WriterOptions);
    }

    public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
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
        return ValueTask.CompletedTask;
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
        Drain();
        _stream.Flush();
        _writer.Dispose();
        if (_isFile) _stream.Dispose();
        return ValueTask.CompletedTask;
    }
}
