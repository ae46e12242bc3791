using System.Buffers;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// The dead-letter file: JSON Lines, one event per line, fsync'd before the event counts as handled:
/// <c>{"event":{…},"task":"users","url":"https://…","status":500,"error":"HTTP 500 …","attempts":6,
/// "transaction":"0-1-42","index":3,"key":["id"],"at":"2026-…Z"}</c>. <c>pluginhost deadletter replay</c> reads it.
/// <c>task</c>, <c>url</c> and <c>error</c> are written with the URL's secrets masked (<see cref="WebhookRoute.DisplayUrl"/>);
/// a new file is created with mode 0600.
/// </summary>
public sealed class WebhookDeadLetter : IDisposable
{
    private readonly object _gate = new();
    private bool _disposed;

    public WebhookDeadLetter(string path) => FilePath = path;

    public string FilePath { get; }

    /// <summary>Append, exclusive; a new file is made 0600 (it holds rows and where they were going).</summary>
    private static readonly FileStreamOptions Options = OwnerOnly(new()
    {
        Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16,
    });

    private static FileStreamOptions OwnerOnly(FileStreamOptions options)
    {
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    internal void Write(IReadOnlyList<ChangeEvent> events, WebhookRoute route, int status, string error, int attempts)
    {
        var buffer = new ArrayBufferWriter<byte>(1024 * events.Count);
        var now = DateTimeOffset.UtcNow;
        var shownError = UrlRedaction.InText(error.Replace(route.Url.ToString(), route.DisplayUrl, StringComparison.Ordinal));
        foreach (var e in events)
        {
            using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions))
            {
                w.WriteStartObject();
                w.WritePropertyName("event"u8);
                ChangeEventJson.Write(w, e);
                w.WriteString("task"u8, route.DisplayId);
                w.WriteString("url"u8, route.DisplayUrl);
                if (status > 0) w.WriteNumber("status"u8, status); else w.WriteNull("status"u8);
                w.WriteString("error"u8, shownError);
                w.WriteNumber("attempts"u8, attempts);
                if (e.TransactionId is { } tx)
                {
                    w.WriteString("transaction"u8, tx);
                    w.WriteNumber("index"u8, e.IndexInTransaction);
                }
                if (e.Schema is { PrimaryKey.Count: > 0 } s)
                {
                    w.WriteStartArray("key"u8);
                    foreach (var k in s.PrimaryKey) w.WriteStringValue(k);
                    w.WriteEndArray();
                }
                w.WriteString("at"u8, now);
                w.WriteEndObject();
            }
            buffer.Write("\n"u8);
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!);
            // Opened per write with an exclusive lock, so `pluginhost deadletter replay` can move the file away
            // safely while the pipeline runs: later writes start a new file, and the replay waits for a write in flight.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var stream = new FileStream(FilePath, Options);
                    stream.Write(buffer.WrittenSpan);
                    stream.Flush(flushToDisk: true);
                    return;
                }
                catch (IOException) when (attempt < 50 && File.Exists(FilePath))
                {
                    Thread.Sleep(20); // locked by a replay reading it
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
    }
}
