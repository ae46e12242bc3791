using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// Loads the plugins of <c>plugins_dir</c> (one folder each, see <see cref="PluginFolder"/>), registers their sink
/// factories in the <see cref="SinkCatalog"/> (origin <c>plugin NAME VERSION</c>) and exposes their
/// <c>[HelperFunctions]</c> assemblies to scripts (<see cref="IHelperAssemblySource"/>). A broken plugin is a status
/// with its error, never a crash.
/// <para><b>Hot reload</b> (<see cref="PluginManagerOptions.Watch"/>): a debounced watcher reloads a folder whose files
/// changed. The new version loads into a new context beside the old and is validated (loads, dependencies resolve,
/// factories construct, no sink type clashes with another plugin or disappears from under a running pipeline, and a
/// new sink can be created from the settings of every running pipeline that uses its sink types). Only then:
/// (a) its factories replace the old ones in the catalog, (b) each such pipeline gets its new sink through
/// <see cref="PipelineRunner.SwapSinkAsync"/> — live from its next transaction boundary, after the old sink was
/// flushed, acknowledged and disposed, (c) <see cref="Changed"/> is raised, (d) the old context is unloaded as soon as
/// no pipeline uses a sink from it and no compiled transform version uses its helpers. A version that fails any step
/// is rejected with its error and the old one keeps running.</para>
/// <para>Helper users are not registered anywhere: a transform version holds the <see cref="HelperAssembly"/> records
/// it was compiled against (<c>CompiledTransform.UsedHelpers</c>) until it is unloaded, and a retired version's record
/// is held here only weakly, so it is in use exactly as long as that record is alive. Whether it still is becomes known
/// after a garbage collection; retired helper versions are therefore checked again after collections
/// (<see cref="CollectionNotifier"/>) as well as after every reload and sink switch.</para>
/// <para>Loads, reloads and removals run one at a time. Handlers of <see cref="Changed"/> and
/// <see cref="StatusChanged"/> run on that path: they must not wait for another reload.</para>
/// </summary>
public sealed partial class PluginManager : IHelperAssemblySource, IHostedService, IAsyncDisposable
{
    private readonly PluginManagerOptions _options;
    private readonly SinkCatalog _catalog;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Func<PipelineManager?>? _pipelines;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly object _stateLock = new();
    private readonly List<Retired> _retired = [];
    private readonly ConditionalWeakTable<PipelineRunner, SinkSwapper> _swappers = new();
    private volatile IReadOnlyList<HelperAssembly> _helpers = [];
    private volatile IReadOnlyList<PluginStatus> _snapshot = [];
    private PluginWatcher? _watcher;
    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private bool _loaded;
    private int _generation;
    private int _collectionWatch; // 1 while a CollectionNotifier runs for retired helper versions
    private volatile bool _disposed;

    public PluginManager(PluginManagerOptions options, SinkCatalog catalog, ILoggerFactory loggers, Func<PipelineManager?>? pipelines = null)
    {
        _options = options;
        _catalog = catalog;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Plugins");
        _pipelines = pipelines;
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
                if (_retired.Count == 0) return snapshot;
                return snapshot.Select(s => s with { PendingUnloads = PendingUnloadsOf(s.Name), Retiring = RetiringOf(s.Name) }).ToList();
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

    /// <summary>Loads every plugin folder once (later calls do nothing). Never throws for a broken plugin.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loaded) return;
            _loaded = true;
            CleanStaleShadowCopies();
            if (!System.IO.Directory.Exists(Directory))
            {
                _logger.LogInformation("plugins directory {Directory} does not exist: no plugins loaded", Directory);
                return;
            }
            foreach (var loose in System.IO.Directory.GetFiles(Directory, "*.dll"))
                _logger.LogWarning("ignoring {File}: a plugin goes in its own folder ({Directory}/NAME/ with its DLL, .deps.json and dependencies)",
                    Path.GetFileName(loose), Directory);
            foreach (var name in PluginFolder.List(Directory))
                LoadOrReload(name, force: true);
            var all = _snapshot;
            _logger.LogInformation("{Loaded} plugin(s) loaded from {Directory}{Failed}", all.Count(p => p.State == PluginState.Loaded), Directory,
                all.Any(p => p.State == PluginState.Failed) ? $"; failed: {string.Join(", ", all.Where(p => p.State == PluginState.Failed).Select(p => p.Name))}" : "");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Synchronous <see cref="LoadAllAsync"/> (command-line start-up).</summary>
    public void LoadAll() => LoadAllAsync().GetAwaiter().GetResult();

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
            LoadOrReload(name, force: true);
        }
        finally
        {
            _gate.Release();
        }
        return Find(name);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadAllAsync(cancellationToken).ConfigureAwait(false);
        if (!_options.Watch || _watcher != null) return;
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            _watcher = new PluginWatcher(Directory, _options.DebounceDelay);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.LogError("cannot watch the plugins directory {Directory}: {Error}; plugins will not hot-reload", Directory, e.Message);
            return;
        }
        _loopStop = new CancellationTokenSource();
        _loop = Task.Run(() => WatchLoopAsync(_watcher, _loopStop.Token), CancellationToken.None);
        _logger.LogInformation("watching {Directory} for plugin changes", Directory);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loopStop is null) return;
        await _loopStop.CancelAsync().ConfigureAwait(false);
        if (_loop != null)
        {
            try { await _loop.WaitAsync(cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        _watcher?.Dispose();
        _watcher = null;
        _loopStop.Dispose();
        _loopStop = null;
        _loop = null;
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
                Unregister(plugin);
                entry.Current = null;
                Retire(plugin);
            }
            _entries.Clear();
            _helpers = [];
            _snapshot = [];
        }
        finally
        {
            _gate.Release();
        }
        _disposed = true;
        lock (_stateLock)
        {
            foreach (var r in _retired)
            {
                if (r.Context is not { } context) continue;
                r.Context = null;
                context.Unload();
            }
        }
    }

    /// <summary>A weak reference to the load context of a plugin's running version (tests: proving old versions are collected).</summary>
    internal WeakReference? WeakContextOf(string name)
    {
        lock (_stateLock)
            return _entries.TryGetValue(name, out var e) && e.Current is { } c ? new WeakReference(c.Context) : null;
    }

    /// <summary>Old versions not collected yet: plugin, load number, whether Unload() was called (diagnostics, tests).</summary>
    internal IReadOnlyList<(string Plugin, int Generation, bool Unloading)> PendingUnloadDetails()
    {
        lock (_stateLock)
            return _retired.Where(r => r.Context != null || r.Weak.IsAlive)
                .Select(r => (r.Name, r.Generation, r.Context is null)).ToList();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void LoadOrReload(string name, bool force)
    {
        var folder = Path.Combine(Directory, name);
        _entries.TryGetValue(name, out var entry);
        if (!System.IO.Directory.Exists(folder))
        {
            if (entry != null) Remove(entry);
            return;
        }
        var fingerprint = PluginFolder.Fingerprint(folder);
        if (!force && entry != null && entry.Fingerprint == fingerprint)
        {
            _logger.LogDebug("plugin {Plugin}: files unchanged, not reloaded", name);
            return;
        }
        if (entry is null)
        {
            entry = new Entry(name, folder);
            lock (_stateLock) _entries[name] = entry;
        }
        entry.Fingerprint = fingerprint;
        var previous = entry.Current;

        LoadedPlugin next;
        try
        {
            next = PluginLoader.Load(name, folder, Interlocked.Increment(ref _generation), ShadowDirectory);
        }
        catch (PluginLoadException e)
        {
            Reject(entry, e.Message);
            return;
        }
        catch (Exception e)
        {
            Reject(entry, $"{e.GetType().Name}: {e.Message}");
            return;
        }

        // Validate against the host before anything is registered.
        var running = RunningPipelines();
        var swaps = new List<(PipelineService Service, PipelineRunner Runner, ISink Sink)>();
        var error = CheckSinkTypes(next, previous, running);
        if (error is null)
        {
            foreach (var service in running)
            {
                if (next.FactoryFor(service.Definition.SinkType) is not { } factory) continue;
                try
                {
                    swaps.Add((service, service.Runner!, CreateSink(factory, service)));
                }
                catch (Exception e)
                {
                    error = $"its {service.Definition.SinkType} sink cannot be created for pipeline {service.Definition.Name}: {e.Message}";
                    break;
                }
            }
        }
        if (error != null)
        {
            foreach (var s in swaps) DisposeQuietly(s.Sink);
            next.Context.Unload();
            Reject(entry, error);
            return;
        }

        // (a) register the new factories (dropping sink types it no longer has), (b) switch running pipelines at
        // their next transaction boundary, (c) tell scripts, (d) unload the old version once nothing uses it.
        if (previous != null)
            foreach (var type in previous.SinkTypes.Except(next.SinkTypes))
                if (_catalog.Find(type) is { } f && previous.Factories.Contains(f)) _catalog.Remove(type);
        foreach (var factory in next.Factories) _catalog.Register(factory, next.Origin);
        lock (_stateLock)
        {
            entry.Current = next;
            entry.Error = null;
            entry.ErrorAt = null;
            entry.Loads++;
        }
        foreach (var (service, runner, sink) in swaps) SwapperFor(service, runner).Swap(sink);

        if (previous is null)
            _logger.LogInformation("plugin {Plugin} {Version} loaded ({File}): sinks [{Sinks}], helpers [{Helpers}]", name, next.Version,
                Path.GetFileName(next.Context.MainAssemblyPath), string.Join(", ", next.SinkTypes), string.Join(", ", next.HelperTypes));
        else
            _logger.LogInformation("plugin {Plugin} reloaded: {Old} → {Version} (load #{Load}): sinks [{Sinks}], helpers [{Helpers}]; {Count} pipeline(s) switch at their next transaction boundary",
                name, previous.Version, next.Version, entry.Loads, string.Join(", ", next.SinkTypes), string.Join(", ", next.HelperTypes), swaps.Count);
        Publish(entry);
        if (next.Helpers != null || previous?.Helpers != null) RaiseChanged();
        if (previous != null) Retire(previous);
        Reconcile();
        TryUnloadRetired();
    }

    private void Reject(Entry entry, string error)
    {
        lock (_stateLock)
        {
            entry.Error = error;
            entry.ErrorAt = DateTimeOffset.UtcNow;
        }
        if (entry.Current is { } current)
            _logger.LogError("plugin {Plugin}: the files in {Folder} were rejected, version {Version} keeps running: {Error}",
                entry.Name, entry.Folder, current.Version, error);
        else
            _logger.LogError("plugin {Plugin} failed to load from {Folder}: {Error}", entry.Name, entry.Folder, error);
        Publish(entry);
    }

    private void Remove(Entry entry)
    {
        if (entry.Current is not { } plugin)
        {
            lock (_stateLock) _entries.Remove(entry.Name);
            PublishRemoved(entry);
            return;
        }
        var users = RunningPipelines().Where(p => plugin.SinkTypes.Contains(p.Definition.SinkType, StringComparer.Ordinal))
            .Select(p => p.Definition.Name).ToList();
        if (users.Count > 0)
        {
            Reject(entry, $"its folder was removed, but pipeline(s) {string.Join(", ", users)} use its sinks: version {plugin.Version} keeps running until they stop");
            return;
        }
        Unregister(plugin);
        lock (_stateLock)
        {
            entry.Current = null;
            _entries.Remove(entry.Name);
        }
        _logger.LogInformation("plugin {Plugin} {Version} removed (its folder is gone)", entry.Name, plugin.Version);
        PublishRemoved(entry);
        if (plugin.Helpers != null) RaiseChanged();
        Retire(plugin);
        TryUnloadRetired();
    }

    private void Unregister(LoadedPlugin plugin)
    {
        foreach (var factory in plugin.Factories)
            if (ReferenceEquals(_catalog.Find(factory.Type), factory)) _catalog.Remove(factory.Type);
    }

    /// <summary>Sink-type rules: no clash with another origin, and no sink type in use disappears.</summary>
    private string? CheckSinkTypes(LoadedPlugin next, LoadedPlugin? previous, IReadOnlyList<PipelineService> running)
    {
        foreach (var type in next.SinkTypes)
        {
            if (previous != null && previous.SinkTypes.Contains(type, StringComparer.Ordinal)) continue;
            if (_catalog.OriginOf(type) is { } origin)
                return $"sink type '{type}' is already provided by {origin}";
        }
        if (previous is null) return null;
        var dropped = previous.SinkTypes.Except(next.SinkTypes, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var users = running.Where(p => dropped.Contains(p.Definition.SinkType)).Select(p => $"{p.Definition.Name} ({p.Definition.SinkType})").ToList();
        return users.Count == 0 ? null : $"the new version no longer has sink type(s) used by running pipeline(s) {string.Join(", ", users)}";
    }

    private ISink CreateSink(ISinkFactory factory, PipelineService service)
    {
        var definition = service.Definition;
        var config = _pipelines?.Invoke()?.Config;
        var logger = new PluginLogger(_loggers.CreateLogger($"PluginHost.Sink.{definition.SinkType}"), definition);
        return factory.Create(Config.ApiPaths.SinkContext(definition, config, logger));
    }

    private IReadOnlyList<PipelineService> RunningPipelines()
    {
        var manager = _pipelines?.Invoke();
        if (manager is null) return [];
        return manager.Pipelines.Where(p => p.Runner != null && p.ExecuteTask is { IsCompleted: false }).ToList();
    }

    private SinkSwapper SwapperFor(PipelineService service, PipelineRunner runner) =>
        _swappers.GetValue(runner, r => new SinkSwapper(service, r, _logger, TryUnloadRetired));

    private void Retire(LoadedPlugin plugin)
    {
        lock (_stateLock) _retired.Add(new Retired(plugin));
        NudgeCollector(); // (collects only once it waits for nothing else)
        if (plugin.Helpers != null && Interlocked.Exchange(ref _collectionWatch, 1) == 0)
            CollectionNotifier.Start(AfterCollection);
    }

    /// <summary>
    /// After a garbage collection (finalizer thread): queues <see cref="TryUnloadRetired"/> while retired helper
    /// versions wait for their transform users to go; false (stop watching) once none waits.
    /// </summary>
    private bool AfterCollection()
    {
        bool waiting;
        lock (_stateLock) waiting = !_disposed && _retired.Any(r => r.Context != null && r.Helpers != null);
        if (!waiting)
        {
            Volatile.Write(ref _collectionWatch, 0);
            // A helper version retired between the check and the reset must not go unwatched.
            lock (_stateLock) waiting = !_disposed && _retired.Any(r => r.Context != null && r.Helpers != null);
            if (!waiting || Interlocked.Exchange(ref _collectionWatch, 1) != 0) return false;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static m => m.TryUnloadRetired(), this, preferLocal: false);
        return true;
    }

    /// <summary>
    /// A pipeline that started while a reload happened may have built its sink from the old version's factory;
    /// switch it to the current version too, so the old context can go.
    /// </summary>
    private void Reconcile()
    {
        List<PluginLoadContext> retired;
        lock (_stateLock) retired = _retired.Where(r => r.Context != null).Select(r => r.Context!).ToList();
        if (retired.Count == 0) return;
        foreach (var service in RunningPipelines())
        {
            var runner = service.Runner!;
            if (ContextOf(runner.Sink) is not PluginLoadContext context || !retired.Contains(context)) continue;
            var swapper = SwapperFor(service, runner);
            if (swapper.Busy) continue;
            if (!_entries.TryGetValue(context.PluginName, out var entry) || entry.Current?.FactoryFor(service.Definition.SinkType) is not { } factory) continue;
            try
            {
                swapper.Swap(CreateSink(factory, service));
                _logger.LogInformation("pipeline {Pipeline}: switching to plugin {Plugin} {Version} at its next transaction boundary",
                    service.Definition.Name, entry.Name, entry.Current!.Version);
            }
            catch (Exception e)
            {
                _logger.LogError("pipeline {Pipeline}: cannot create its {Type} sink from plugin {Plugin} {Version}: {Error}",
                    service.Definition.Name, service.Definition.SinkType, entry.Name, entry.Current!.Version, e.Message);
            }
        }
    }

    /// <summary>
    /// Unloads retired contexts nothing uses any more: no pipeline has a sink from it (live, pending or being
    /// disposed), and no transform version holds its helper assembly.
    /// </summary>
    private void TryUnloadRetired()
    {
        var unload = new List<PluginLoadContext>();
        lock (_stateLock)
        {
            if (_retired.Count == 0) return;
            List<ISink>? inUse = null;
            foreach (var r in _retired)
            {
                if (r.Context is not { } context) continue;
                if (r.Helpers is { IsAlive: true }) continue; // a compiled transform version still calls into it
                inUse ??= SinksInUse();
                if (inUse.Any(s => ContextOf(s) == context)) continue;
                r.Context = null;
                unload.Add(context);
            }
            _retired.RemoveAll(r => r.Context is null && !r.Weak.IsAlive);
        }
        foreach (var context in unload)
        {
            context.Unload();
            _logger.LogDebug("plugin {Plugin}: load #{Generation} unloaded", context.PluginName, context.Generation);
        }
        if (unload.Count > 0) NudgeCollector(); // their code goes at the next collections
    }

    private List<ISink> SinksInUse()
    {
        var sinks = new List<ISink>();
        var manager = _pipelines?.Invoke();
        if (manager is null) return sinks;
        foreach (var service in manager.Pipelines)
        {
            if (service.Runner is not { } runner) continue;
            if (service.ExecuteTask is { IsCompleted: false }) sinks.Add(runner.Sink);
            if (_swappers.TryGetValue(runner, out var swapper)) sinks.AddRange(swapper.PendingSinks());
        }
        return sinks;
    }

    private static AssemblyLoadContext? ContextOf(ISink sink) => AssemblyLoadContext.GetLoadContext(sink.GetType().Assembly);

    private int PendingUnloadsOf(string name) => _retired.Count(r => r.Name == name && (r.Context != null || r.Weak.IsAlive));

    private void Publish(Entry changed)
    {
        PluginStatus status;
        lock (_stateLock)
        {
            _snapshot = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(StatusOf).ToList();
            _helpers = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)
                .Select(e => e.Current?.Helpers).OfType<HelperAssembly>().ToList();
            status = StatusOf(changed) with { PendingUnloads = PendingUnloadsOf(changed.Name), Retiring = RetiringOf(changed.Name) };
        }
        RaiseStatusChanged(status);
    }

    private void PublishRemoved(Entry removed)
    {
        lock (_stateLock)
        {
            _snapshot = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(StatusOf).ToList();
            _helpers = _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)
                .Select(e => e.Current?.Helpers).OfType<HelperAssembly>().ToList();
        }
        RaiseStatusChanged(StatusOf(removed) with { State = PluginState.Removed });
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
            catch (Exception e) { _logger.LogError(e, "a helper-assembly change handler failed: {Error}", e.Message); }
        }
    }

    private void RaiseStatusChanged(PluginStatus status)
    {
        if (StatusChanged is not { } handlers) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<PluginStatus>>())
        {
            try { handler(status); }
            catch (Exception e) { _logger.LogError(e, "a plugin status handler failed: {Error}", e.Message); }
        }
    }

    private void DisposeQuietly(ISink sink)
    {
        try { sink.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        catch (Exception e) { _logger.LogWarning("disposing a sink of a rejected plugin version failed: {Error}", e.Message); }
    }

    private async Task WatchLoopAsync(PluginWatcher watcher, CancellationToken ct)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_options.DebounceDelay.TotalMilliseconds / 4, 10, 100));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (watcher.HasPending) await Task.Delay(tick, ct).ConfigureAwait(false);
                else await watcher.Signal.WaitAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var (names, rescan) = watcher.TakeDue();
            var todo = names.ToList();
            if (rescan)
            {
                _logger.LogWarning("the plugins directory watcher lost events; rescanning {Directory}", Directory);
                lock (_stateLock) todo = todo.Union(PluginFolder.List(Directory)).Union(_entries.Keys).ToList();
            }
            bool retiredPending;
            lock (_stateLock) retiredPending = _retired.Any(r => r.Context != null);
            if (todo.Count == 0 && !retiredPending) continue;
            try
            {
                await _gate.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                foreach (var name in todo)
                {
                    if (File.Exists(Path.Combine(Directory, name))) continue; // a loose file, not a plugin folder
                    try
                    {
                        LoadOrReload(name, force: false);
                    }
                    catch (Exception e)
                    {
                        _logger.LogError(e, "plugin {Plugin}: reload failed unexpectedly: {Error}", name, e.Message);
                    }
                }
                Reconcile();
            }
            finally
            {
                _gate.Release();
            }
            TryUnloadRetired();
        }
    }

    /// <summary>Deletes native-library copies left by host processes that are gone.</summary>
    private void CleanStaleShadowCopies()
    {
        if (!System.IO.Directory.Exists(ShadowDirectory)) return;
        foreach (var dir in System.IO.Directory.GetDirectories(ShadowDirectory))
        {
            var name = Path.GetFileName(dir);
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                continue; // still running
            }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
            try { System.IO.Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

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

    /// <summary>An old version of a plugin, kept until nothing uses it. Holds neither its factories nor its helper record.</summary>
    private sealed class Retired
    {
        public Retired(LoadedPlugin plugin)
        {
            Name = plugin.Name;
            Generation = plugin.Generation;
            Version = plugin.Version;
            Context = plugin.Context;
            Weak = new WeakReference(plugin.Context);
            Helpers = plugin.Helpers is { } helpers ? new WeakReference(helpers) : null;
        }

        public string Name { get; }

        public int Generation { get; }

        public string? Version { get; }

        /// <summary>Collections run for it while it waited for nothing but the collector.</summary>
        public int Collections { get; set; }

        /// <summary>Held until the context is unloaded, then dropped so it can be collected.</summary>
        public PluginLoadContext? Context { get; set; }

        public WeakReference Weak { get; }

        /// <summary>Its helper assembly record (null: it has none), alive while a compiled transform version uses it.</summary>
        public WeakReference? Helpers { get; }
    }
}
