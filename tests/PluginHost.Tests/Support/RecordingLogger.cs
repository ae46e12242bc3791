using Microsoft.Extensions.Logging;
using PluginHost.Sdk;
using Xunit.Abstractions;

namespace PluginHost.Tests.Support;

/// <summary>One category of a <see cref="RecordingLoggerProvider"/>: the host's <see cref="ILogger"/> and a plugin's <see cref="IPluginLogger"/>.</summary>
public sealed class RecordingLogger(RecordingLoggerProvider owner, string category) : ILogger, IPluginLogger
{
    /// <summary>A logger with a provider of its own (lines at Information and above).</summary>
    public RecordingLogger(ITestOutputHelper? output = null, string category = "test", LogLevel minimum = LogLevel.Information)
        : this(new RecordingLoggerProvider(output, minimum), category) { }

    public RecordingLoggerProvider Provider => owner;
    public IReadOnlyCollection<string> Lines => owner.Lines;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.Minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) owner.Add(logLevel, category, formatter(state, exception), exception, state, eventId);
    }

    public void Info(string message) => Log(LogLevel.Information, message);
    public void Warning(string message) => Log(LogLevel.Warning, message);
    public void Error(string message, Exception? exception = null) => Log(LogLevel.Error, message, exception);

    private void Log(LogLevel level, string message, Exception? exception = null)
    {
        if (IsEnabled(level)) owner.Add(level, category, message, exception, null);
    }
}
