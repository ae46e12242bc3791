using Microsoft.Extensions.Logging;
using PluginHost.Sdk;
using Xunit.Abstractions;

namespace PluginHost.Tests.Webhook;

/// <summary>Host and plugin log lines into the xunit output (and a list a test can check).</summary>
public sealed class TestLog(ITestOutputHelper? output) : ILogger, IPluginLogger
{
    public List<string> Lines { get; } = [];

    private void Add(string level, string message)
    {
        var line = $"{DateTime.Now:HH:mm:ss.fff} {level} {message}";
        lock (Lines) Lines.Add(line);
        try { output?.WriteLine(line); } catch (InvalidOperationException) { }
    }

    public string[] Snapshot()
    {
        lock (Lines) return Lines.ToArray();
    }

    public void Info(string message) => Add("info", message);
    public void Warning(string message) => Add("warn", message);
    public void Error(string message, Exception? exception = null) => Add("fail", message);

    IDisposable? ILogger.BeginScope<TState>(TState state) => null;
    bool ILogger.IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    void ILogger.Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Information) return;
        Add(logLevel.ToString().ToLowerInvariant()[..4], formatter(state, exception));
    }
}
