using System.Diagnostics;

namespace PluginHost.Scripting;

/// <summary>
/// Enforces the per-event time limit without touching the event path. Each loaded transform publishes a token for the
/// event it is running (two plain writes per event); one timer samples every loaded transform every
/// <see cref="Tick"/>. A token seen running for longer than the limit is <i>tripped</i>: the script's guard flag goes
/// up and the next loop check inside the script throws <see cref="TransformTimeoutException"/>, so the pipeline's
/// on_error policy handles it like any other failure. Code that never reaches a check (a blocking call, a helper
/// function spinning) cannot be stopped — .NET has no thread abort — so when it keeps running past twice the limit
/// the transform reports itself stuck (the pipeline shows it failed); if it ever returns, the event fails with a
/// timeout.
/// </summary>
internal static class TransformWatchdog
{
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private static readonly List<CompiledTransform> Watched = [];
    private static CompiledTransform[] _snapshot = [];
    private static Timer? _timer;
    private static int _busy;

    public static void Watch(CompiledTransform t)
    {
        lock (Watched)
        {
            Watched.Add(t);
            _snapshot = Watched.ToArray();
            _timer ??= new Timer(static _ => OnTick(), null, Tick, Tick);
        }
    }

    public static void Unwatch(CompiledTransform t)
    {
        lock (Watched)
        {
            if (!Watched.Remove(t)) return;
            _snapshot = Watched.ToArray();
            if (Watched.Count == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    internal static int Count
    {
        get { lock (Watched) return Watched.Count; }
    }

    private static void OnTick()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1) return; // the previous tick is still running
        try
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var t in Volatile.Read(ref _snapshot))
            {
                try { t.Observe(now); }
                catch (Exception) { } // a callback's failure must not stop the watchdog
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }
}
