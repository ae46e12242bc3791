using System.Text;

namespace PluginHost.Cli;

/// <summary>
/// One progress line on standard error, rewritten in place (<c>\r</c>), only when standard error is a terminal: a
/// redirected stderr (a log file, a pipe, a test) gets no progress at all. <see cref="Errors"/> wraps the error writer
/// so a message printed meanwhile first clears the line.
/// </summary>
internal sealed class TerminalProgress : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly TextWriter? _terminal;
    private readonly Lock _lock = new();
    private DateTime _last = DateTime.MinValue;
    private int _shown;

    /// <param name="terminal">The terminal to draw on; null draws nothing.</param>
    public TerminalProgress(TextWriter? terminal)
    {
        _terminal = terminal;
        Errors = terminal is null ? TextWriter.Null : new ClearingWriter(this, terminal);
    }

    /// <summary>Progress on <paramref name="error"/> when it is the console's stderr and that is a terminal; else none.</summary>
    public static TerminalProgress ForStandardError(TextWriter error) =>
        new(ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected ? error : null);

    /// <summary>True when progress is drawn.</summary>
    public bool Enabled => _terminal is not null;

    /// <summary>The error writer to print messages through while progress is shown (the line is cleared first).</summary>
    public TextWriter Errors { get; }

    /// <summary>Shows <paramref name="text"/> (at most five times a second unless <paramref name="now"/>).</summary>
    public void Report(string text, bool now = false)
    {
        if (_terminal is null) return;
        lock (_lock)
        {
            var time = DateTime.UtcNow;
            if (!now && time - _last < Interval) return;
            _last = time;
            _terminal.Write("\r" + text.PadRight(_shown));
            _terminal.Flush();
            _shown = text.Length;
        }
    }

    /// <summary>Removes the line.</summary>
    public void Clear()
    {
        if (_terminal is null) return;
        lock (_lock)
        {
            if (_shown == 0) return;
            _terminal.Write("\r" + new string(' ', _shown) + "\r");
            _terminal.Flush();
            _shown = 0;
        }
    }

    public void Dispose() => Clear();

    /// <summary>Writes through to the terminal after clearing the progress line.</summary>
    private sealed class ClearingWriter(TerminalProgress progress, TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            progress.Clear();
            inner.Write(value);
        }

        public override void Write(string? value)
        {
            progress.Clear();
            inner.Write(value);
        }

        public override void WriteLine(string? value)
        {
            progress.Clear();
            inner.WriteLine(value);
        }

        public override Task WriteLineAsync(string? value)
        {
            progress.Clear();
            return inner.WriteLineAsync(value);
        }

        public override void Flush() => inner.Flush();
    }
}
