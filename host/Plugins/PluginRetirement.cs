using System.Runtime.Loader;
using Microsoft.Extensions.Logging;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// Old plugin versions until they are gone. A retired version's context is unloaded once no pipeline holds a sink
/// from it (live, pending or being disposed) and no compiled transform version holds its <see cref="HelperAssembly"/>
/// record (held here only weakly, so whether it is still used becomes known after a garbage collection: retired helper
/// versions are checked again after collections, see <see cref="CollectionNotifier"/>). A context whose last user is
/// gone is freed only by garbage collections (a few: its objects, then its code); an idle host may not collect for many
/// minutes, so once a retired version waits for nothing else a short, bounded series of collections is run (at 0.1,
/// 0.25, 0.5, 1, 2, 4 and 8 s), stopping as soon as nothing waits for the collector. Also says what each retired
/// version waits for (<see cref="PluginStatus.Retiring"/>).
/// </summary>
internal sealed class PluginRetirement(object stateLock, PipelineSinks pipelines, ILogger logger)
{
    internal const string WaitingForCollector = "waiting for the garbage collector to free its unloaded code";
    private static readonly int[] NudgeDelaysMs = [100, 250, 500, 1000, 2000, 4000, 8000];

    // Under stateLock (the manager's, so a status and its retired versions are read together): the retired versions.
    private readonly List<Retired> _retired = [];

    // Any thread, lock-free: the collection watch (1 while a CollectionNotifier runs for retired helper versions),
    // the nudge series (requests seen, 1 while it runs) and the end.
    private int _collectionWatch;
    private int _nudgeRequests;
    private int _nudging;
    private volatile bool _disposed;

    /// <summary>True when a retired version was not collected yet (under stateLock).</summary>
    public bool Any => _retired.Count > 0;

    /// <summary>True when a retired context was not unloaded yet.</summary>
    public bool AnyLoaded
    {
        get { lock (stateLock) return _retired.Any(r => r.Context != null); }
    }

    /// <summary>The retired contexts not unloaded yet.</summary>
    public List<PluginLoadContext> LoadedContexts()
    {
        lock (stateLock) return _retired.Where(r => r.Context != null).Select(r => r.Context!).ToList();
    }

    /// <summary>Keeps <paramref name="plugin"/> (no longer current) until nothing uses it.</summary>
    public void Retire(LoadedPlugin plugin)
    {
        lock (stateLock) _retired.Add(new Retired(plugin));
        NudgeCollector(); // (collects only once it waits for nothing else)
        if (plugin.Helpers != null && Interlocked.Exchange(ref _collectionWatch, 1) == 0)
            CollectionNotifier.Start(AfterCollection);
    }

    /// <summary>A transform version that used helpers was unloaded: run the collections that may free its helpers.</summary>
    public void Released() => NudgeCollector();

    /// <summary>
    /// Unloads retired contexts nothing uses any more: no pipeline has a sink from it (live, pending or being
    /// disposed), and no transform version holds its helper assembly.
    /// </summary>
    public void TryUnload()
    {
        var unload = new List<PluginLoadContext>();
        lock (stateLock)
        {
            if (_retired.Count == 0) return;
            List<(string Pipeline, ISink Sink)>? inUse = null;
            foreach (var r in _retired)
            {
                if (r.Context is not { } context) continue;
                if (r.Helpers is { IsAlive: true }) continue; // a compiled transform version still calls into it
                inUse ??= pipelines.Users();
                if (inUse.Any(s => ContextOf(s.Sink) == context)) continue;
                r.Context = null;
                unload.Add(context);
            }
            _retired.RemoveAll(r => r.Context is null && !r.Weak.IsAlive);
        }
        foreach (var context in unload)
        {
            context.Unload();
            logger.LoadUnloaded(context.PluginName, context.Generation);
        }
        if (unload.Count > 0) NudgeCollector(); // their code goes at the next collections
    }

    /// <summary>Stops collecting and unloads every retired context at once (the manager is being disposed).</summary>
    public void UnloadAll()
    {
        _disposed = true;
        lock (stateLock)
        {
            foreach (var r in _retired)
            {
                if (r.Context is not { } context) continue;
                r.Context = null;
                context.Unload();
            }
        }
    }

    /// <summary>How many retired versions of <paramref name="name"/> were not collected yet (under stateLock).</summary>
    public int PendingUnloadsOf(string name) => _retired.Count(r => r.Name == name && (r.Context != null || r.Weak.IsAlive));

    /// <summary>The retired versions of <paramref name="name"/> not collected yet, with what each waits for (under stateLock).</summary>
    public IReadOnlyList<PendingUnload>? RetiringOf(string name)
    {
        List<PendingUnload>? list = null;
        List<(string Pipeline, ISink Sink)>? sinks = null;
        foreach (var r in _retired)
        {
            if (r.Name != name || r.Context is null && !r.Weak.IsAlive) continue;
            (list ??= []).Add(new PendingUnload(r.Generation, r.Version, WaitingFor(r, ref sinks)));
        }
        return list;
    }

    /// <summary>Old versions not collected yet: plugin, load number, whether Unload() was called (diagnostics, tests).</summary>
    public IReadOnlyList<(string Plugin, int Generation, bool Unloading)> PendingUnloadDetails()
    {
        lock (stateLock)
            return _retired.Where(r => r.Context != null || r.Weak.IsAlive)
                .Select(r => (r.Name, r.Generation, r.Context is null)).ToList();
    }

    public static AssemblyLoadContext? ContextOf(ISink sink) => AssemblyLoadContext.GetLoadContext(sink.GetType().Assembly);

    private string WaitingFor(Retired r, ref List<(string Pipeline, ISink Sink)>? sinks)
    {
        var collector = r.Collections < NudgeDelaysMs.Length ? WaitingForCollector
            : $"still referenced after {r.Collections} collections since its last user went: something outside the host's bookkeeping holds its code";
        if (r.Context is not { } context) return collector; // Unload() was called
        sinks ??= pipelines.Users();
        var users = sinks.Where(s => ContextOf(s.Sink) == context).Select(s => s.Pipeline).Distinct().ToList();
        if (users.Count > 0)
            return $"waiting for pipeline(s) {string.Join(", ", users)} to switch to the new version's sink at their next transaction boundary";
        if (r.Helpers?.Target is HelperAssembly helper && pipelines.TransformUsing(helper) is var (pipeline, version))
            return $"waiting for transform version {version} of pipeline {pipeline} to retire (it calls this version's helpers)";
        return collector;
    }

    /// <summary>
    /// After a garbage collection (finalizer thread): queues <see cref="TryUnload"/> while retired helper versions
    /// wait for their transform users to go; false (stop watching) once none waits.
    /// </summary>
    private bool AfterCollection()
    {
        bool waiting;
        lock (stateLock) waiting = !_disposed && _retired.Any(r => r.Context != null && r.Helpers != null);
        if (!waiting)
        {
            Volatile.Write(ref _collectionWatch, 0);
            // A helper version retired between the check and the reset must not go unwatched.
            lock (stateLock) waiting = !_disposed && _retired.Any(r => r.Context != null && r.Helpers != null);
            if (!waiting || Interlocked.Exchange(ref _collectionWatch, 1) != 0) return false;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static r => r.TryUnload(), this, preferLocal: false);
        return true;
    }

    /// <summary>True when a retired version waits for nothing but the collector; counts the collection about to run for each.</summary>
    private bool AnyWaitsForCollector()
    {
        lock (stateLock)
        {
            List<(string Pipeline, ISink Sink)>? sinks = null;
            var any = false;
            foreach (var r in _retired)
                if ((r.Context != null || r.Weak.IsAlive) && WaitingFor(r, ref sinks) == WaitingForCollector)
                {
                    r.Collections++;
                    any = true;
                }
            return any;
        }
    }

    /// <summary>Runs the bounded series of collections (again from the start when asked while it runs).</summary>
    private void NudgeCollector()
    {
        Interlocked.Increment(ref _nudgeRequests);
        if (_disposed || Interlocked.Exchange(ref _nudging, 1) != 0) return;
        _ = Task.Run(NudgeLoopAsync);
    }

    private async Task NudgeLoopAsync()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _nudgeRequests);
            try
            {
                for (var i = 0; i < NudgeDelaysMs.Length; i++)
                {
                    await Task.Delay(NudgeDelaysMs[i]).ConfigureAwait(false);
                    if (_disposed) break;
                    if (Volatile.Read(ref _nudgeRequests) != seen)
                    {
                        seen = Volatile.Read(ref _nudgeRequests);
                        i = -1; // something was released meanwhile: start the series again
                        continue;
                    }
                    if (!AnyWaitsForCollector()) break;
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    TryUnload();
                    seen = Volatile.Read(ref _nudgeRequests); // (its own request when it unloaded something: this series goes on anyway)
                }
            }
            catch (Exception e)
            {
                logger.CollectingFailed(e.Message);
            }
            Volatile.Write(ref _nudging, 0);
            if (_disposed || Volatile.Read(ref _nudgeRequests) == seen || Interlocked.Exchange(ref _nudging, 1) != 0) return;
        }
    }

    /// <summary>An old version of a plugin, kept until nothing uses it. Holds neither its factories nor its helper record.</summary>
    private sealed class Retired(LoadedPlugin plugin)
    {
        public string Name { get; } = plugin.Name;

        public int Generation { get; } = plugin.Generation;

        public string? Version { get; } = plugin.Version;

        /// <summary>Collections run for it while it waited for nothing but the collector.</summary>
        public int Collections { get; set; }

        /// <summary>Held until the context is unloaded, then dropped so it can be collected.</summary>
        public PluginLoadContext? Context { get; set; } = plugin.Context;

        public WeakReference Weak { get; } = new(plugin.Context);

        /// <summary>Its helper assembly record (null: it has none), alive while a compiled transform version uses it.</summary>
        public WeakReference? Helpers { get; } = plugin.Helpers is { } helpers ? new WeakReference(helpers) : null;
    }
}
