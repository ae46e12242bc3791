using System.Text;
using PluginHost.Sdk;

namespace MySink;

/// <summary>
/// Appends every event as one JSON line to a file. <see cref="WriteAsync"/> buffers; <see cref="FlushAsync"/> (at each
/// transaction end, before the host moves its checkpoint) writes the buffer and makes it durable.
/// </summary>
public sealed class EventFileSink : ISink
{
    private readonly string _path;
    private readonly IPluginLogger _logger;
    private readonly StringBuilder _buffer = new();

    public EventFileSink(string path, IPluginLogger logger)
    {
        _path = path;
        _logger = logger;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
    }

    public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        foreach (var e in batch) _buffer.Append(e.ToString()).Append('\n'); // ToString(): the event as JSON
        return ValueTask.CompletedTask;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Length == 0) return;
        await using (var file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            await file.WriteAsync(Encoding.UTF8.GetBytes(_buffer.ToString()), cancellationToken);
            file.Flush(flushToDisk: true);
        }
        _buffer.Clear();
    }

    public ValueTask DisposeAsync()
    {
        if (_buffer.Length > 0) _logger.Warning($"{_buffer.Length} unflushed characters dropped (the host repeats them from its checkpoint)");
        return ValueTask.CompletedTask;
    }
}
