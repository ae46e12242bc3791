using System.Collections;
using Microsoft.Extensions.Logging;
using PluginHost.Config;

namespace PluginHost.Plugins;

/// <summary>
/// Wraps a pipeline's logger so no line of it carries a secret: the formatted message, every structured value (what the
/// JSON console formatter writes as <c>State</c>) and the exception text are passed through <see cref="Secrets.Scrub"/>
/// with the pipeline's secret values (<see cref="Secrets.ValuesOf"/>) — URL passwords are cut in any case.
/// </summary>
internal sealed class SecretScrubbingLogger(ILogger inner, IReadOnlyList<string> secrets) : ILogger
{
    /// <summary>The logger of category <paramref name="category"/> for <paramref name="definition"/>'s lines.</summary>
    public static ILogger For(ILoggerFactory loggers, string category, PipelineDefinition? definition) =>
        new SecretScrubbingLogger(loggers.CreateLogger(category), Secrets.ValuesOf(definition));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel)) return;
        var message = Secrets.Scrub(formatter(state, exception), secrets) ?? "";
        var scrubbed = new ScrubbedState(message, state as IReadOnlyList<KeyValuePair<string, object?>>, secrets);
        inner.Log(logLevel, eventId, scrubbed, exception is null ? null : new ScrubbedException(exception, secrets), static (s, _) => s.Message);
    }

    /// <summary>The structured values of a line with every text scrubbed; <c>{OriginalFormat}</c> (the template) as it was.</summary>
    private sealed class ScrubbedState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _values;

        public ScrubbedState(string message, IReadOnlyList<KeyValuePair<string, object?>>? values, IReadOnlyList<string> secrets)
        {
            Message = message;
            _values = values is null ? [] : new KeyValuePair<string, object?>[values.Count];
            for (var i = 0; i < _values.Length; i++)
            {
                var (key, value) = values![i];
                _values[i] = new(key, key == "{OriginalFormat}" ? value : ScrubValue(value, secrets));
            }
        }

        public string Message { get; }
        public int Count => _values.Length;
        public KeyValuePair<string, object?> this[int index] => _values[index];
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        public override string ToString() => Message;

        /// <summary>Numbers and the like stay as they are; anything whose text holds a secret becomes its scrubbed text.</summary>
        private static object? ScrubValue(object? value, IReadOnlyList<string> secrets)
        {
            if (value is null or bool or int or long or uint or ulong or double or float or decimal or TimeSpan or DateTimeOffset or DateTime) return value;
            var text = value as string ?? value.ToString();
            var clean = Secrets.Scrub(text, secrets);
            return value is string || !string.Equals(clean, text, StringComparison.Ordinal) ? clean : value;
        }
    }

    /// <summary>Stands for an exception in a log line: its message and its whole text (stack, inner exceptions) scrubbed.</summary>
    private sealed class ScrubbedException(Exception original, IReadOnlyList<string> secrets)
        : Exception(Secrets.Scrub(original.Message, secrets))
    {
        public override string? StackTrace => Secrets.Scrub(original.StackTrace, secrets);
        public override string ToString() => Secrets.Scrub(original.ToString(), secrets) ?? "";
    }
}
