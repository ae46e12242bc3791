using System.Buffers;
using System.Text.Json;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Appends events that could not be processed to a JSON Lines file, one object per line:
/// <c>{"event":{…},"stage":"transform","error":"…","exception":{…},"at":"…"}</c>; fsync'd before the checkpoint
/// passes them. <c>exception</c> is the whole exception: <c>type</c> (full name), <c>message</c>, <c>script</c> and
/// <c>line</c> when a transform script threw or was stopped, <c>stack</c>, and <c>inner</c> (the same, for the inner
/// exception, nested as deep as they go). A new file is created with mode 0600; messages are written with URL secrets
/// masked (<see cref="UrlRedaction"/>) and the pipeline's secret values masked.
/// </summary>
internal sealed class DeadLetterFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly object _gate = new();

    private readonly IReadOnlyList<string> _secrets;

    /// <param name="path">The file.</param>
    /// <param name="secrets">The pipeline's secret values, masked in messages (<see cref="Config.Secrets.ValuesOf"/>).</param>
    public DeadLetterFile(string path, IReadOnlyList<string>? secrets = null)
    {
        _secrets = secrets ?? [];
        FilePath = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // it holds rows
        _stream = new FileStream(path, options);
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
            w.WriteString("error", error.GetType().Name + ": " + Shown(error.Message));
            w.WritePropertyName("exception");
            WriteException(w, error, 0);
            w.WriteString("at", DateTimeOffset.UtcNow);
            w.WriteEndObject();
        }
        lock (_gate)
        {
            _stream.Write(buffer.WrittenSpan);
            _stream.WriteByte((byte)'\n');
        }
    }

    private string Shown(string text) => Config.Secrets.Scrub(text, _secrets) ?? "";

    private void WriteException(Utf8JsonWriter w, Exception error, int depth)
    {
        w.WriteStartObject();
        w.WriteString("type", error.GetType().FullName ?? error.GetType().Name);
        w.WriteString("message", Shown(error.Message));
        var (script, line) = error switch
        {
            ScriptException s => (s.Script, s.Line),
            TransformTimeoutException t => (t.Script, t.Line),
            _ => (null, null),
        };
        if (script != null) w.WriteString("script", script);
        if (line is { } n) w.WriteNumber("line", n);
        if (error.StackTrace is { } stack) w.WriteString("stack", Shown(stack));
        if (error.InnerException is { } inner && depth < 16)
        {
            w.WritePropertyName("inner");
            WriteException(w, inner, depth + 1);
        }
        w.WriteEndObject();
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
