using System.Buffers;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Appends events that could not be processed to a JSON Lines file, one object per line:
/// <c>{"event":{…},"error":"…","stage":"transform","at":"…"}</c>; fsync'd before the checkpoint passes them.
/// </summary>
public sealed class DeadLetterFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly object _gate = new();

    public DeadLetterFile(string path)
    {
        FilePath = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
    }

    public string FilePath { get; }

    public void Write(ChangeEvent e, string stage, Exception error)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("event");
            ChangeEventJson.Write(w, e);
            w.WriteString("stage", stage);
            w.WriteString("error", error.GetType().Name + ": " + error.Message);
            w.WriteString("at", DateTimeOffset.UtcNow);
            w.WriteEndObject();
        }
        lock (_gate)
        {
            _stream.Write(buffer.WrittenSpan);
            _stream.WriteByte((byte)'\n');
        }
    }

    /// <summary>Makes everything written durable.</summary>
    public void Flush()
    {
        lock (_gate) _stream.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        lock (_gate) _stream.Dispose();
    }
}
