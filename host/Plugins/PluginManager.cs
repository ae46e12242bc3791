using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Scripting;

namespace PluginHost.Plugins;

/// <summary>
/// Loads the plugins of <c>plugins_dir</c> (one folder each, see <see cref="PluginFolder"/>), registers their sink
/// factories in the <see cref="SinkCatalog"/> (origin <c>plugin NAME VERSION</c>) and exposes their
/// <c>[HelperFunctions]</c> assemblies to scripts (<see cref="IHelperAssemblySource"/>). A broken plugin is a status
/// with its error, never a crash.
/// <para><b>Hot reload</b> (<see cref="PluginManagerOptions.Watch"/>): <see cref="PluginWatchService"/> reloads a folder
/// whose files changed. The new version loads into a new context beside the old and is checked by
/// <see cref="PluginValidator"/>. Only then: (a) its factories replace the old ones in the catalog, (b) each pipeline
/// using them gets its new sink through <see cref="ISinkVersionConsumer.SwapSinkAsync"/> — live from its next
/// transaction boundary, after the old sink was flushed, acknowledged and disposed, (c) <see cref="Changed"/> is
/// raised, (d) <see cref="PluginRetirement"/> unloads the old context once nothing uses it. A version that fails any
/// step is rejected with its error and the old one keeps running.</para>
/// <para>The pipelines are attached by the host (<see cref="Attach"/>): this layer knows them only as
/// <see cref="ISinkVersionConsumers"/>.</para>
/// <para>Loads, reloads and removals run one at a time. Handlers of <see cref="Changed"/> and
/// <see cref="StatusChanged"/> run on that path: they must not wait for another reload.</para>
/// </summary>
internal sealed partial class PluginManager : IHelperAssemblySource, IHostedService, IAsyncDisposable
{
    // Set at construction: settings and the parts that do the work.
    private readonly PluginManagerOptions _options;
    private readonly ILogger _logger;
    private readonly PipelineSinks _pipelines;
    private readonly PluginValidator _validator;
    private readonly PluginRetirement _retirement;

    // Loads, reloads and removals, one at a time under _gate: the plugins by folder name (also written under
    // _stateLock for readers), whether the first load ran, and the load counter.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private bool _loaded;
    private int _generation;

    // Any reader (API, scripts, tests): snapshots swapped whole; _stateLock keeps entries and retired versions consistent.
    private readonly object _stateLock = new();
    private volatile IReadOnlyList<HelperAssembly> _helpers = [];
    private volatile IReadOnlyList<PluginStatus> _snapshot = [];

    // Host start and stop: the hot-reload watcher; a load begun in the background (BeginLoadAll) and the watcher's
    // start after it.
    private PluginWatchService? _watch;
    private Task? _loading, _watchAfterLoading;

    public PluginManager(PluginManagerOptions options, SinkCatalog catalog, ILoggerFactory loggers)
    {
        _options = options;
        _logger = loggers.CreateLogger("PluginHost.Plugins");
        _pipelines = new PipelineSinks(_logger, () => _retirement!.TryUnload());
        _validator = new PluginValidator(catalog, _pipelines, _logger);
        _retirement = new PluginRetirement(_stateLock, _pipelines, _logger);
        Directory = Path.GetFullPath(options.Directory);
        ShadowDirectory = Path.GetFullPath(options.ShadowDirectory ?? Path.Combine(Path.GetTempPath(), "pluginhost-shadow"));
    }

    /// <summary>The plugins directory (full path).</summary>
    public string Directory { get; }

    /// <summary>Where native libraries of plugins are copied to.</summary>
    public string ShadowDirectory { get; }

    /// <summary>Every plugin folder seen, with its state (for <c>GET /plugins</c>), by name.</summary>
    public IReadOnlyList<PluginStatus> Plugins
    {
        get
        {
            var snapshot = _snapshot;
            lock (_stateLock)
            {
                if (!_retirement.Any) return snapshot;
                return snapshot.Select(s => s with { PendingUnloads = _retirement.PendingUnloadsOf(s.Name), Retiring = _retirement.RetiringOf(s.Name) }).ToList();
            }
        }
    }

    /// <summary>One plugin's status, or null when no folder of that name was seen.</summary>
    public PluginStatus? Find(string name) => Plugins.FirstOrDefault(p => p.Name == name);

    /// <inheritdoc />
    public IReadOnlyList<HelperAssembly> Current => _helpers;

    /// <inheritdoc />
    public event Action? Changed;

    /// <summary>Raised after every load, rejected load and removal of a plugin, with its new status.</summary>
    public event Action<PluginStatus>? StatusChanged;

    /// <inheritdoc />
    public void Released() => _retirement.Released();

    /// <summary>Attaches the pipelines whose sinks come from plugins (the host does, when it is assembled).</summary>
    internal void Attach(ISinkVersionConsumers pipelines) => _pipelines.Attach(pipelines);

    /// <summary>Loads every plugin folder once (later calls do nothing). Never throws for a broken plugin.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loaded) return;
            _loaded = true;
            ShadowCopies.CleanStale(ShadowDirectory);
            if (!System.IO.Directory.Exists(Directory))
            {
                _logger.PluginsDirectoryMissing(Directory);
                return;
            }
            foreach (var loose in System.IO.Directory.GetFiles(Directory, "*.dll"))
                WarnLooseDll(Path.GetFileName(loose));
            foreach (var name in PluginFolder.List(Directory))
                await LoadOrReloadAsync(name, force: true).ConfigureAwait(false);
            var all = _snapshot;
            _logger.PluginsLoaded(all.Count(p => p.State == PluginState.Loaded), Directory,
                all.Any(p => p.State == PluginState.Failed) ? $"; failed: {string.Join(", ", all.Where(p => p.State == PluginState.Failed).Select(p => p.Name))}" : "");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// (Re)loads one plugin from its folder now, even when its files look unchanged (removes it when the folder is
    /// gone). Returns its status afterwards (null when it is gone).
    /// </summary>
    public async Task<PluginStatus?> ReloadAsync(string name, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _loaded = true;
            await LoadOrReloadAsync(name, force: true).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        return Find(name);
    }

    /// <summary>
    /// Begins <see cref="LoadAllAsync"/> on the thread pool, for a host none of whose pipelines needs a plugin to start
    /// (the host goes on starting meanwhile; <see cref="StartAsync"/> then does not wait for it). Later calls do nothing.
    /// </summary>
    public void BeginLoadAll(CancellationToken cancellationToken)
    {
        lock (_stateLock) _loading ??= Task.Run(() => LoadAllAsync(cancellationToken), CancellationToken.None);
    }

    /// <summary>
    /// Loads every plugin (awaited: the host starts its pipelines only after this), then starts watching when asked.
    /// After <see cref="BeginLoadAll"/> it returns at once and the watching starts when that load is done.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Task? loading;
        lock (_stateLock) loading = _loading;
        if (loading != null)
        {
            _watchAfterLoading ??= WatchAfterAsync(loading);
            return;
        }
        await LoadAllAsync(cancellationToken).ConfigureAwait(false);
        await WatchAsync().ConfigureAwait(false);
    }

    private async Task WatchAfterAsync(Task loading)
    {
        try
        {
            await loading.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // stopped while loading
        }
        catch (Exception e)
        {
            _logger.PluginsBackgroundLoadFailed(e, Directory, e.Message);
        }
        await WatchAsync().ConfigureAwait(false);
    }

    private async Task WatchAsync()
    {
        if (!_options.Watch || _watch != null) return;
        PluginWatcher watcher;
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            watcher = new PluginWatcher(Directory, _options.DebounceDelay);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.PluginsCannotWatch(Directory, e.Message);
            return;
        }
        _watch = new PluginWatchService(this, watcher, _options.DebounceDelay, _logger);
        await _watch.StartAsync(CancellationToken.None).ConfigureAwait(false);
        _logger.PluginsWatching(Directory);
    }

    /// <summary>Stops watching (the loaded plugins stay).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_watchAfterLoading is { } starting) await starting.ConfigureAwait(false); // (a background load: its watcher is stopped too)
        if (_watch is not { } watch) return;
        await watch.StopAsync(cancellationToken).ConfigureAwait(false);
        watch.Dispose();
        _watch = null;
    }

    /// <summary>Stops watching, unregisters every plugin's sink types and unloads every plugin context.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var entry in _entries.Values)
            {
                if (entry.Current is not { } plugin) continue;
                _validator.Unregister(plugin);
                entry.Current = null;
                _retirement.Retire(plugin);
            }
            _entries.Clear();
            _helpers = [];
            _snapshot = [];
        }
        finally
        {
            _gate.Release();
        }
        _retirement.UnloadAll();
    }

    /// <summary>A weak reference to the load context of a plugin's running version (tests: proving old versions are collected).</summary>
    internal WeakReference? WeakContextOf(string name)
    {
        lock (_stateLock)
            return _entries.TryGetValue(name, out var e) && e.Current is { } c ? new WeakReference(c.Context) : null;
    }

    /// <summary>Old versions not collected yet: plugin, load number, whether Unload() was called (diagnostics, tests).</summary>
    internal IReadOnlyList<(string Plugin, int Generation, bool Unloading)> PendingUnloadDetails() => _retirement.PendingUnloadDetails();

    /// <summary>A DLL directly in <c>plugins_dir</c> is not loaded: says so, naming the folder it belongs in.</summary>
    private void WarnLooseDll(string file) =>
        _logger.LooseDllIgnored(file, Directory, Path.GetFileNameWithoutExtension(file));

    private void Publish(Entry changed)
    {
        PluginStatus status;
        lock (_stateLock)
        {
            PublishSnapshots();
            status = StatusOf(changed) with { PendingUnloads = _retirement.PendingUnloadsOf(changed.Name), Retiring = _retirement.RetiringOf(changed.Name) };
        }
        RaiseStatusChanged(status);
    }

    private void PublishRemoved(Entry removed)
    {
        lock (_stateLock) PublishSnapshots();
        RaiseStatusChanged(StatusOf(removed) with { State = PluginState.Removed });
    }

    /// <summary>Rebuilds the statuses and the helper set from the entries (under <c>_stateLock</c>).</summary>
    private void PublishSnapshots()
    {
        _snapshot = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(StatusOf).ToList();
        _helpers = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => e.Current?.Helpers).OfType<HelperAssembly>().ToList();
    }

    private static PluginStatus StatusOf(Entry e)
    {
        var c = e.Current;
        return new PluginStatus(e.Name, e.Folder, c != null ? PluginState.Loaded : PluginState.Failed, c?.Version,
            c is null ? null : Path.GetFileName(c.Context.MainAssemblyPath), c?.SinkTypes ?? [], c?.HelperTypes ?? [],
            e.Error, c?.LoadedAt, e.ErrorAt, e.Loads, 0);
    }

    private void RaiseChanged()
    {
        if (Changed is not { } handlers) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action>())
        {
            try { handler(); }
            catch (Exception e) { _logger.HelperHandlerFailed(e, e.Message); }
        }
    }

    private void RaiseStatusChanged(PluginStatus status)
    {
        if (StatusChanged is not { } handlers) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<PluginStatus>>())
        {
            try { handler(status); }
            catch (Exception e) { _logger.StatusHandlerFailed(e, e.Message); }
        }
    }

    /// <summary>One plugin folder: its running version (null: none loaded) and the last load's outcome.</summary>
    private sealed class Entry(string name, string folder)
    {
        public string Name { get; } = name;
        public string Folder { get; } = folder;
        public LoadedPlugin? Current { get; set; }
        public string? Error { get; set; }
        public DateTimeOffset? ErrorAt { get; set; }
        public string? Fingerprint { get; set; }
        public int Loads { get; set; }
    }
}
