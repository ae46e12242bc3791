using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace PluginHost.Tests.Support;

/// <summary>
/// The tests' log: keeps every line at or above <paramref name="minimum"/> as <c>{Level} {category}: {message}</c> (with its
/// structured values) and echoes it to the test output. A provider for a real logging builder, or the factory itself.
/// </summary>
public sealed class RecordingLoggerProvider(ITestOutputHelper? output = null, LogLevel minimum = LogLevel.Trace) : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _values = new();
    private readonly ConcurrentQueue<(EventId, LogLevel, string)> _events = new();

    public LogLevel Minimum => minimum;
    public IReadOnlyCollection<string> Lines => _lines;
    public string Text => string.Join('\n', _lines);

    /// <summary>Every structured value of every line (what the JSON console formatter writes as <c>State</c>), one a line.</summary>
    public string StateText => string.Join('\n', _values);

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(this, categoryName);

    /// <summary>Every line with its event id (a plugin's own lines have id 0).</summary>
    public IReadOnlyCollection<(EventId Id, LogLevel Level, string Message)> Events => _events;

    internal void Add(LogLevel level, string category, string message, Exception? exception, object? state, EventId eventId = default)
    {
        _events.Enqueue((eventId, level, message));
        if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
            foreach (var (key, value) in pairs)
                if (key != "{OriginalFormat}") _values.Enqueue($"{key}={value}");
        var line = $"{level} {category}: {message}{(exception is null ? "" : " " + exception)}";
        _lines.Enqueue(line);
        try { output?.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {line}"); }
        catch (InvalidOperationException) { } // the test has finished
    }

    void ILoggerFactory.AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }
}
