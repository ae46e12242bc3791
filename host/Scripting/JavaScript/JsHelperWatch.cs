using System.Diagnostics;

namespace PluginHost.Scripting.JavaScript;

/// <summary>Where a helper function is called from: the script (rule) and the function with its plugin.</summary>
internal sealed record JsHelperSite(string Script, string Function, string Plugin);

/// <summary>
/// The time limit around the helper functions a JavaScript version calls. Jint checks its time limit between
/// statements, so a helper function (a .NET call) that blocks or spins cannot be interrupted; this is the
/// <see cref="TransformWatchdog"/>'s view of such calls, as <see cref="CompiledTransform"/> gives it for C#: each call
/// publishes a token (plain writes), the watchdog marks a call running past the limit as tripped, reports it
/// <see cref="Stuck"/> once it runs past twice the limit (at least limit + 1 s), and when it returns the event fails
/// with a <see cref="TransformTimeoutException"/> (and <see cref="Recovered"/> is raised). One per version; calls come
/// from the pipeline's writer thread only.
/// </summary>
internal sealed class JsHelperWatch(TimeSpan timeout) : TransformWatchdog.IWatched
{
    private long _sequence;
    private long _active;      // token of the helper call running, 0 when none
    private long _tripToken;   // token the watchdog found over the limit
    private long _stuckToken;  // token reported stuck
    private long _tripTicks;   // how long the tripped call had run when tripped
    private volatile JsHelperSite? _site;

    // Watchdog's own bookkeeping (only the watchdog thread touches these).
    private long _watchToken, _watchSince;

    /// <summary>Per-event time limit.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>Raised (on the watchdog thread) when a helper call keeps running well past the limit.</summary>
    public Action<string>? Stuck { get; set; }

    /// <summary>Raised when a call reported <see cref="Stuck"/> returned.</summary>
    public Action? Recovered { get; set; }

    /// <summary>A helper call begins; returns its token for <see cref="Exit"/>.</summary>
    public long Enter(JsHelperSite site)
    {
        _site = site;
        var token = ++_sequence;
        Volatile.Write(ref _active, token);
        return token;
    }

    /// <summary>The call of <paramref name="token"/> ended; throws when it ran past the limit (the event fails with a timeout).</summary>
    public void Exit(long token, bool threw)
    {
        Volatile.Write(ref _active, 0);
        if (Volatile.Read(ref _tripToken) == 0) return;
        var tripped = Interlocked.Exchange(ref _tripToken, 0) == token;
        if (Interlocked.Exchange(ref _stuckToken, 0) != 0) Recovered?.Invoke();
        if (tripped && !threw && _site is { } site)
            throw new TransformTimeoutException($"transform exceeded its time limit of {Seconds(Timeout)}: helper function {site.Function} " +
                                                $"ran over {Seconds(TimeSpan.FromTicks(Volatile.Read(ref _tripTicks)))} ({site.Script})", site.Script);
    }

    /// <inheritdoc />
    public void Observe(long now)
    {
        var active = Volatile.Read(ref _active);
        if (active == 0 || active != _watchToken)
        {
            _watchToken = active;
            _watchSince = now;
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(_watchSince, now);
        if (elapsed >= Timeout && Volatile.Read(ref _tripToken) != active)
        {
            Volatile.Write(ref _tripTicks, elapsed.Ticks);
            Volatile.Write(ref _tripToken, active);
        }
        var grace = Timeout > TimeSpan.FromSeconds(1) ? Timeout : TimeSpan.FromSeconds(1);
        if (elapsed >= Timeout + grace && Volatile.Read(ref _stuckToken) != active && _site is { } site)
        {
            Volatile.Write(ref _stuckToken, active);
            Stuck?.Invoke($"transform {site.Script} is stuck in helper function {site.Function} (plugin {site.Plugin}): one event has waited " +
                          $"{Seconds(elapsed)} for it (limit {Seconds(Timeout)}); a .NET call cannot be interrupted, so the pipeline waits for it to return");
            // It may have returned meanwhile (its Exit saw no stuck report): say so, or the pipeline would stay shown stuck.
            if (Volatile.Read(ref _active) != active && Interlocked.CompareExchange(ref _stuckToken, 0, active) == active) Recovered?.Invoke();
        }
    }

    /// <summary>Starts the watchdog's sampling (a loaded version).</summary>
    public void Start() => TransformWatchdog.Watch(this);

    /// <summary>Stops it (the version is unloaded).</summary>
    public void Stop()
    {
        TransformWatchdog.Unwatch(this);
        Stuck = null;
        Recovered = null;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 10 ? $"{t.TotalSeconds:0} s" : $"{t.TotalSeconds:0.###} s";
}
