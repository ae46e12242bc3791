namespace PluginHost.Scripting;

/// <summary>
/// Watches script files for changes: one <see cref="FileSystemWatcher"/> per directory, shared by every subscriber
/// of files in it. Editors save in several steps (write a temp file, rename, touch…); each subscriber gets one
/// callback once its file has been quiet for the debounce interval. Renames onto the file count as changes.
/// </summary>
internal static class ScriptFileWatcher
{
    private sealed class DirectoryWatch
    {
        public required FileSystemWatcher Watcher;
        public readonly List<Subscription> Subscribers = [];
    }

    private sealed class Subscription : IDisposable
    {
        private readonly Timer _timer;
        private readonly Action _callback;
        private readonly TimeSpan _debounce;
        private volatile bool _disposed;

        public Subscription(string directory, string fileName, Action callback, TimeSpan debounce)
        {
            Directory = directory;
            FileName = fileName;
            _callback = callback;
            _debounce = debounce;
            _timer = new Timer(static s => ((Subscription)s!).Fire(), this, Timeout.Infinite, Timeout.Infinite);
        }

        public string Directory { get; }
        public string FileName { get; }

        public void Poke()
        {
            if (_disposed) return;
            try { _timer.Change(_debounce, Timeout.InfiniteTimeSpan); }
            catch (ObjectDisposedException) { }
        }

        private void Fire()
        {
            if (_disposed) return;
            try { _callback(); }
            catch (Exception) { } // the subscriber reports its own failures
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _timer.Dispose();
            Remove(this);
        }
    }

    private static readonly Dictionary<string, DirectoryWatch> Watches = new(StringComparer.Ordinal);

    /// <summary>Calls <paramref name="onChanged"/> (on a pool thread) after <paramref name="path"/> changed and then stayed quiet for <paramref name="debounce"/>.</summary>
    public static IDisposable Subscribe(string path, TimeSpan debounce, Action onChanged)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var sub = new Subscription(dir, Path.GetFileName(full), onChanged, debounce);
        lock (Watches)
        {
            if (!Watches.TryGetValue(dir, out var watch))
            {
                var fsw = new FileSystemWatcher(dir)
                {
                    IncludeSubdirectories = false,
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                watch = new DirectoryWatch { Watcher = fsw };
                fsw.Changed += (_, e) => Notify(dir, e.Name);
                fsw.Created += (_, e) => Notify(dir, e.Name);
                fsw.Deleted += (_, e) => Notify(dir, e.Name);
                fsw.Renamed += (_, e) =>
                {
                    Notify(dir, e.Name);
                    Notify(dir, e.OldName);
                };
                fsw.Error += (_, _) => Notify(dir, null); // overflow: tell everyone to look again
                Watches[dir] = watch;
                fsw.EnableRaisingEvents = true;
            }
            watch.Subscribers.Add(sub);
        }
        return sub;
    }

    private static void Notify(string dir, string? name)
    {
        Subscription[] targets;
        lock (Watches)
        {
            if (!Watches.TryGetValue(dir, out var watch)) return;
            targets = watch.Subscribers.Where(s => name is null || string.Equals(s.FileName, name, StringComparison.Ordinal)).ToArray();
        }
        foreach (var s in targets) s.Poke();
    }

    private static void Remove(Subscription sub)
    {
        FileSystemWatcher? dispose = null;
        lock (Watches)
        {
            if (!Watches.TryGetValue(sub.Directory, out var watch)) return;
            watch.Subscribers.Remove(sub);
            if (watch.Subscribers.Count == 0)
            {
                Watches.Remove(sub.Directory);
                dispose = watch.Watcher;
            }
        }
        dispose?.Dispose();
    }
}
