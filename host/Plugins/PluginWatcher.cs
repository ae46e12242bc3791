namespace PluginHost.Plugins;

/// <summary>
/// Watches <c>plugins_dir</c> (recursively) and reports which plugin folders changed, debounced: a folder is due once
/// no event touched it for the quiet period, so copying several files (or a whole build output) is one change.
/// An overflow of the OS event queue marks every folder as changed.
/// </summary>
internal sealed class PluginWatcher : IDisposable
{
    // Set at construction.
    private readonly string _root;
    private readonly TimeSpan _quiet;
    private readonly FileSystemWatcher _watcher;

    // The OS's event threads and the watch loop, under _gate: last event per folder, and whether events were lost.
    private readonly Dictionary<string, long> _lastEvent = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private bool _overflow;

    public PluginWatcher(string root, TimeSpan quiet)
    {
        _root = Path.GetFullPath(root);
        _quiet = quiet;
        _watcher = new FileSystemWatcher(_root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += (_, e) => Touch(e.FullPath);
        _watcher.Changed += (_, e) => Touch(e.FullPath);
        _watcher.Deleted += (_, e) => Touch(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Touch(e.OldFullPath);
            Touch(e.FullPath);
        };
        _watcher.Error += (_, _) =>
        {
            lock (_gate) _overflow = true;
        };
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Signalled on every event (<see cref="PluginWatchService"/> waits on it instead of polling when idle).</summary>
    public SemaphoreSlim Signal { get; } = new(0);

    /// <summary>True when any folder has an event not yet reported.</summary>
    public bool HasPending
    {
        get { lock (_gate) return _overflow || _lastEvent.Count > 0; }
    }

    /// <summary>Names of plugin folders quiet for the debounce period (removed from the pending set), and whether
    /// the OS lost events (then the caller rescans every folder).</summary>
    public (IReadOnlyList<string> Names, bool Rescan) TakeDue()
    {
        var now = Environment.TickCount64;
        lock (_gate)
        {
            var quietMs = (long)_quiet.TotalMilliseconds;
            var due = _lastEvent.Where(kv => now - kv.Value >= quietMs).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
            foreach (var name in due) _lastEvent.Remove(name);
            var rescan = _overflow && (_lastEvent.Count == 0);
            if (rescan) _overflow = false;
            return (due, rescan);
        }
    }

    /// <summary>Marks a folder as changed now (also used for manual requests).</summary>
    public void Touch(string fullPath)
    {
        var relative = Path.GetRelativePath(_root, fullPath);
        if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) return;
        var sep = relative.IndexOfAny([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
        var name = sep < 0 ? relative : relative[..sep];
        if (!PluginFolder.IsPluginName(name)) return;
        lock (_gate) _lastEvent[name] = Environment.TickCount64;
        if (Signal.CurrentCount == 0) Signal.Release();
    }

    public void Dispose()
    {
        _watcher.EnableRaisingEvents = false;
        _watcher.Dispose();
    }
}
