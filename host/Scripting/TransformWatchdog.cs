using System.Diagnostics;

namespace PluginHost.Scripting;

/// <summary>
/// Enforces the per-event time limit without touching the event path. Each loaded transform publishes a token for the
/// event it is running (two plain writes per event); one thread samples every loaded transform every
/// <see cref="Tick"/>. A token seen running for longer than the limit is <i>tripped</i>: the script's guard flag goes
/// up and the next loop check inside the script throws <see cref="TransformTimeoutException"/>, so the pipeline's
/// on_error policy handles it like any other failure. Code that never reaches a check (a blocking call, a helper
/// function spinning) cannot be stopped — .NET has no thread abort — so when it keeps running past twice the limit
/// the transform reports itself stuck (the pipeline shows it failed); if it ever returns, the event fails with a
/// timeout. JavaScript versions are sampled the same way around their helper function calls (<c>JsHelperWatch</c>):
/// Jint stops the script's own code itself, but not a .NET call.
/// </summary>
internal static class TransformWatchdog
{
    /// <summary>A loaded transform version the watchdog samples.</summary>
    internal interface IWatched
    {
        /// <summary>The watchdog's look at the version (every <see cref="Tick"/>, on the watchdog thread).</summary>
        void Observe(long now);
    }

    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private static readonly List<IWatched> Watched = [];
    private static IWatched[] _snapshot = [];
    private static Thread? _thread;

    public static void Watch(IWatched t)
    {
        lock (Watched)
        {
            Watched.Add(t);
            _snapshot = Watched.ToArray();
            if (_thread != null) return;
            // Its own thread, not a thread-pool timer: a script blocking pool threads (the very case this guards)
            // must not keep the watchdog from running.
            _thread = new Thread(Run) { IsBackground = true, Name = "transform-watchdog" };
            _thread.Start();
        }
    }

    private static void Run()
    {
        while (true)
        {
            Thread.Sleep(Tick);
            lock (Watched)
            {
                if (Watched.Count == 0)
                {
                    _thread = null; // the next Watch starts a new one
                    return;
                }
            }
            OnTick();
        }
    }

    public static void Unwatch(IWatched t)
    {
        lock (Watched)
        {
            if (!Watched.Remove(t)) return;
            _snapshot = Watched.ToArray();
        }
    }

    internal static int Count
    {
        get { lock (Watched) return Watched.Count; }
    }

    private static void OnTick()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var t in Volatile.Read(ref _snapshot))
        {
            try { t.Observe(now); }
            catch (Exception) { } // a callback's failure must not stop the watchdog
        }
    }
}
