using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace PluginHost.Scripting;

/// <summary>The outcome of one (re)compilation of a pipeline's script.</summary>
/// <param name="Success">True when a new version was loaded and handed to the pipeline.</param>
/// <param name="Version">The new version (null on failure or when nothing changed).</param>
/// <param name="Diagnostics">Errors (on failure) or warnings.</param>
/// <param name="Reason">What triggered it: start, file changed, helper plugin changed, request.</param>
/// <param name="CompileTime">Compile and load time.</param>
/// <param name="Unchanged">True when the script and its helpers were unchanged, so nothing was compiled.</param>
internal sealed record ScriptReload(bool Success, ITransformVersion? Version, IReadOnlyList<ScriptDiagnostic> Diagnostics, string Reason, TimeSpan CompileTime, bool Unchanged = false);

/// <summary>
/// The transform of one pipeline: builds its <c>.csx</c>, <c>.js</c> or JavaScript rule chain (<see cref="ITransformSource"/>) off the event path, watches the file (debounced) and the
/// helper plugins, recompiles in the background and hands each new version to the pipeline, which switches at the
/// next transaction boundary (<see cref="PipelineRunner.SwapTransform"/>). A script that does not compile leaves the
/// running version in place and reports its diagnostics (log and <see cref="ITransformStatus.TransformDiagnostics"/>).
/// Versions the pipeline no longer runs are unloaded (their collectible contexts freed).
/// </summary>
internal sealed class ScriptTransformHost : IDisposable
{
    private readonly ITransformSource _source;
    private readonly IHelperAssemblySource? _helpers;
    private readonly TimeSpan _timeout;
    private readonly ITransformStatus _status;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _compileGate = new(1, 1);
    private readonly object _gate = new();
    private readonly List<ITransformVersion> _handed = []; // given to the pipeline, oldest first; [0] is (or was) live
    private readonly TaskCompletionSource _firstGood = new(TaskCreationOptions.RunContinuationsAsynchronously); // no result: must not keep a version alive
    private readonly Timer _helperDebounce;
    private ITransformVersion? _current;
    private Action<IEventTransform?>? _swap;
    private IDisposable? _watch;
    private Timer? _maintenance;
    private Timer? _poll;
    private volatile string? _lastSeenText; // the script text the last reload read
    private string? _pollCandidate;         // a changed text the last poll saw (reloaded when the next poll sees it again)
    private string? _lastAttemptHash;
    private bool _lastFailed;
    private volatile bool _disposed;
    private int _stuck;

    /// <param name="scriptPath">The script file.</param>
    /// <param name="displayPath">The name used in diagnostics and logs (e.g. as written in the pipeline's <c>transform:</c>).</param>
    /// <param name="helpers">Helper plugins (null: none).</param>
    /// <param name="timeout">Per-event time limit.</param>
    /// <param name="status">The pipeline's status (diagnostics are published there; its TransformVersion tells which version is live).</param>
    /// <param name="logger">The pipeline's logger.</param>
    public ScriptTransformHost(string scriptPath, string displayPath, IHelperAssemblySource? helpers, TimeSpan timeout, ITransformStatus status, ILogger logger)
        : this(new CSharpTransformSource(Path.GetFullPath(scriptPath)), displayPath, helpers, timeout, status, logger)
    {
    }

    /// <param name="source">What to watch, read and build.</param>
    /// <param name="displayPath">The name used in logs.</param>
    /// <param name="helpers">Helper plugins (null: none).</param>
    /// <param name="timeout">Per-event time limit.</param>
    /// <param name="status">The pipeline's status.</param>
    /// <param name="logger">The pipeline's logger.</param>
    public ScriptTransformHost(ITransformSource source, string displayPath, IHelperAssemblySource? helpers, TimeSpan timeout, ITransformStatus status, ILogger logger)
    {
        _source = source;
        DisplayPath = displayPath;
        _helpers = helpers;
        _timeout = timeout;
        _status = status;
        _logger = logger;
        _helperDebounce = new Timer(_ => OnHelpersSettled(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public string DisplayPath { get; }

    /// <summary>Quiet time after the last file event before recompiling (editors save in several steps).</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Compiled versions kept on disk (null: always compile).</summary>
    public CompiledScriptCache? Cache { get; init; }

    /// <summary>
    /// False when the file is not a transform (e.g. a link to some other file): compiler messages, which quote the
    /// source (<c>The name 'ghp_…' does not exist</c>), are then replaced by their codes and positions only.
    /// </summary>
    public bool QuotesSource { get; init; } = true;

    /// <summary>False to recompile only on <see cref="ReloadAsync"/> and helper changes (tests, benchmarks).</summary>
    public bool WatchFile { get; init; } = true;

    /// <summary>
    /// With <see cref="WatchFile"/>, how often the script is also read and compared, for changes no file event names:
    /// a Kubernetes ConfigMap or Secret volume (which swaps a <c>..data</c> symlink), a script that is a symlink into
    /// another folder, a watched folder deleted and made again, file systems without change notification. A changed
    /// text is reloaded once two polls in a row read it (so a save in progress is not compiled half-written).
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The newest version that compiled (handed to the pipeline, possibly not live yet).</summary>
    public ITransformVersion? Current
    {
        get { lock (_gate) return _current; }
    }

    /// <summary>Diagnostics of the last compilation (errors if it failed, else warnings).</summary>
    public IReadOnlyList<ScriptDiagnostic> Diagnostics { get; private set; } = [];

    /// <summary>Versions loaded and not yet unloaded (the live one, and any waiting for the next transaction).</summary>
    public int LoadedVersions
    {
        get { lock (_gate) return _handed.Count(v => !v.IsUnloaded) + (_current is { IsUnloaded: false } c && !_handed.Contains(c) ? 1 : 0); }
    }

    /// <summary>Raised after every compilation attempt (on a background thread).</summary>
    public event Action<ScriptReload>? Reloaded;

    private string Pipeline => _status.Name;

    /// <summary>
    /// Starts watching and compiles the script. When it does not compile the pipeline is shown failed with the
    /// diagnostics, and this waits until a saved fix compiles (or <paramref name="cancellationToken"/>): the pipeline never
    /// runs without its transform.
    /// </summary>
    public async Task<ITransformVersion> StartAsync(CancellationToken cancellationToken)
    {
        if (WatchFile)
        {
            try
            {
                var watches = _source.Files.Distinct().Select(f => ScriptFileWatcher.Subscribe(f, Debounce, () => ReloadInBackground("file changed"))).ToList();
                _watch = new Watches(watches);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                _logger.TransformCannotWatch(Pipeline, DisplayPath, e.Message);
            }
        }
        if (WatchFile && PollInterval > TimeSpan.Zero) _poll = new Timer(_ => Poll(), null, PollInterval, PollInterval);
        if (_helpers != null) _helpers.Changed += OnHelpersChanged;
        _maintenance = new Timer(_ => RetireUnused(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        var first = await ReloadAsync("start").ConfigureAwait(false);
        if (first.Success) return first.Version!;
        var errors = first.Diagnostics.Where(d => d.IsError).ToList();
        _status.AwaitingTransformFix = true;
        _status.TransformFailed($"transform {DisplayPath} does not compile ({errors.Count} error(s), first: {errors.FirstOrDefault()}); waiting for a fix");
        try
        {
            await _firstGood.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _status.AwaitingTransformFix = false;
        }
        _status.TransformCompiled();
        return Current ?? throw new ObjectDisposedException(nameof(ScriptTransformHost));
    }

    /// <summary>Connects the pipeline: later versions go to <paramref name="swap"/>; <paramref name="initial"/> is the version it was built with.</summary>
    public void Attach(Action<IEventTransform?> swap, IEventTransform? initial)
    {
        lock (_gate)
        {
            _swap = swap;
            if (initial is ITransformVersion c && !_handed.Contains(c)) _handed.Add(c);
            if (_current != null && !ReferenceEquals(_current, initial))
            {
                _handed.Add(_current);
                swap(_current);
            }
        }
    }

    /// <summary>Recompiles now if the script or its helpers changed (serialised with other reloads).</summary>
    public async Task<ScriptReload> ReloadAsync(string reason, bool force = false)
    {
        await _compileGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return new ScriptReload(false, null, [], reason, TimeSpan.Zero, Unchanged: true);
            var clock = Stopwatch.StartNew();
            var helpers = _helpers?.Current ?? [];
            string? text = null;
            try
            {
                text = _source.Read();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Report(false, null, ScriptCompiler.Unreadable(DisplayPath, $"cannot read the script: {e.Message}", helpers).Diagnostics, reason, clock);
            }
            _lastSeenText = text;
            var hash = _source.Hash(text, helpers);
            if (!force && _current is { } running && hash == running.ContentHash)
            {
                if (_lastFailed) ShowRunningAgain(running, reason); // a broken save undone: its errors are no longer true
                return new ScriptReload(false, null, Diagnostics, reason, clock.Elapsed, Unchanged: true);
            }
            if (!force && hash == _lastAttemptHash && _lastFailed)
                return new ScriptReload(false, null, Diagnostics, reason, clock.Elapsed, Unchanged: true);
            _lastAttemptHash = hash;
            ITransformVersion? loaded = null;
            IReadOnlyList<ScriptDiagnostic> diagnostics;
            var fromCache = false;
            try
            {
                var build = await _source.BuildAsync(DisplayPath, text, helpers, _timeout, Cache).ConfigureAwait(false);
                (loaded, diagnostics, fromCache) = (build.Loaded, build.Diagnostics, build.FromCache);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Anything else compiling or loading can throw (a helper that does not resolve, a type that fails to
                // load): reported like a compile error, so the running version stays and the reason is shown.
                diagnostics = ScriptCompiler.Unreadable(DisplayPath, $"compiling or loading the script failed: {e.GetType().Name}: {e.Message}", helpers).Diagnostics;
            }
            return Report(fromCache, loaded, diagnostics, reason, clock);
        }
        finally
        {
            _compileGate.Release();
        }
    }

    /// <summary>The file is back to the running version's text after a save that did not compile: its warnings, not the errors, are shown.</summary>
    private void ShowRunningAgain(ITransformVersion running, string reason)
    {
        _lastFailed = false;
        _lastAttemptHash = null;
        Diagnostics = running.Warnings;
        _status.TransformDiagnostics = running.Warnings.Count == 0 ? null : ScriptDiagnostic.Format(running.Warnings);
        _logger.TransformBackToRunningVersion(Pipeline, DisplayPath, running.Version, reason);
    }

    private ScriptReload Report(bool fromCache, ITransformVersion? loaded, IReadOnlyList<ScriptDiagnostic> diagnostics, string reason, Stopwatch clock)
    {
        if (!QuotesSource)
            diagnostics = diagnostics.Select(d => d with { Message = "(message not shown: the file is not a .csx transform, symbolic links followed)" }).ToList();
        if (_disposed)
        {
            loaded?.Unload(); // the pipeline stopped while this compiled
            return new ScriptReload(false, null, diagnostics, reason, clock.Elapsed);
        }
        Diagnostics = diagnostics;
        _status.TransformDiagnostics = ScriptDiagnostic.Format(diagnostics);
        if (loaded != null)
        {
            _lastFailed = false;
            loaded.Stuck = OnStuck;
            loaded.Recovered = OnRecovered;
            ITransformVersion? unused = null;
            var orphan = false;
            lock (_gate)
            {
                // Disposed while this compiled (Dispose sets the flag before it takes the gate, and unloads what it
                // finds under it): this version is nobody's and must not reach a pipeline that has stopped.
                orphan = _disposed;
                if (!orphan)
                {
                    var previous = _current;
                    _current = loaded;
                    if (_swap != null)
                    {
                        _handed.Add(loaded);
                        _swap(loaded);
                    }
                    else if (previous != null && !_handed.Contains(previous)) unused = previous; // never ran
                }
            }
            if (orphan)
            {
                loaded.Unload();
                return new ScriptReload(false, null, diagnostics, reason, clock.Elapsed);
            }
            unused?.Unload();
            _logger.TransformLoaded(Pipeline, DisplayPath, fromCache ? "loaded from the transform cache" : "compiled", loaded.Version, (long)clock.Elapsed.TotalMilliseconds, reason,
                diagnostics.Count == 0 ? "" : "\n" + ScriptDiagnostic.Format(diagnostics));
            _firstGood.TrySetResult();
        }
        else
        {
            _lastFailed = true;
            var running = Current?.Version;
            _logger.TransformDoesNotCompile(Pipeline, DisplayPath, reason, running is null ? "no version is running" : $"version {running} keeps running",
                ScriptDiagnostic.Format(diagnostics));
        }
        var result = new ScriptReload(loaded != null, loaded, diagnostics, reason, clock.Elapsed);
        try { Reloaded?.Invoke(result); }
        catch (Exception e) { _logger.TransformReloadListenerFailed(Pipeline, e.Message); }
        return result;
    }

    /// <summary>The polling fallback of the file watcher (see <see cref="PollInterval"/>).</summary>
    private void Poll()
    {
        if (_disposed) return;
        string text;
        try
        {
            text = _source.Read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // missing for a moment (being replaced): the watcher and the next poll see the outcome
        }
        if (text == _lastSeenText)
        {
            _pollCandidate = null;
            return;
        }
        if (text != _pollCandidate)
        {
            _pollCandidate = text; // changed since the last reload: reloaded if the next poll reads the same
            return;
        }
        _pollCandidate = null;
        ReloadInBackground("file changed (seen by polling)");
    }

    private void OnHelpersChanged() => _helperDebounce.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void OnHelpersSettled()
    {
        if (_disposed || _helpers is null) return;
        var now = _helpers.Current;
        var current = Current;
        var dependent = current is null || _lastFailed || _source.DependsOnChanged(current, now);
        if (dependent) ReloadInBackground("helper plugin changed");
    }

    /// <summary>A reload nobody awaits (file watcher, helper changes): whatever goes wrong is logged, never lost.</summary>
    private void ReloadInBackground(string reason)
    {
        _ = ReloadAsync(reason).ContinueWith(t =>
        {
            if (t.Exception?.GetBaseException() is { } e)
                _logger.TransformReloadFailed(e, Pipeline, DisplayPath, reason, e.Message);
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Unloads versions older than the one the pipeline runs now (it switched past them).</summary>
    internal void RetireUnused()
    {
        var live = _status.TransformVersion;
        List<ITransformVersion> retired;
        lock (_gate)
        {
            var index = _handed.FindIndex(v => v.Version == live);
            if (index <= 0) return;
            retired = _handed.GetRange(0, index);
            _handed.RemoveRange(0, index);
        }
        var usedHelpers = false;
        foreach (var v in retired)
        {
            usedHelpers |= v.UsedHelpers.Count > 0;
            v.Unload();
            _logger.TransformVersionUnloaded(Pipeline, v.Version);
        }
        if (usedHelpers) _helpers?.Released();
    }

    /// <summary>The loaded versions (live or waiting to go live) compiled against <paramref name="helper"/>, oldest first.</summary>
    public IReadOnlyList<string> VersionsUsing(HelperAssembly helper)
    {
        lock (_gate)
            return _handed.Append(_current).OfType<ITransformVersion>().Distinct()
                .Where(v => !v.IsUnloaded && v.UsedHelpers.Any(h => ReferenceEquals(h, helper))).Select(v => v.Version).ToList();
    }

    private void OnStuck(string message)
    {
        Interlocked.Exchange(ref _stuck, 1);
        _status.TransformFailed(message);
        _logger.TransformStuck(Pipeline, message);
    }

    private void OnRecovered()
    {
        if (Interlocked.Exchange(ref _stuck, 0) == 0) return;
        _status.TransformRecovered();
        _logger.TransformStuckCallReturned(Pipeline);
    }

    /// <summary>Stops watching and unloads every version. Call after the pipeline stopped.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watch?.Dispose();
        if (_helpers != null) _helpers.Changed -= OnHelpersChanged;
        _helperDebounce.Dispose();
        _maintenance?.Dispose();
        _poll?.Dispose();
        _firstGood.TrySetCanceled();
        List<ITransformVersion> all;
        lock (_gate)
        {
            all = [.. _handed];
            if (_current != null && !all.Contains(_current)) all.Add(_current);
            _handed.Clear();
            _current = null;
        }
        foreach (var v in all) v.Unload();
    }

    /// <summary>The file watches of a source with several files, disposed together.</summary>
    private sealed class Watches(List<IDisposable> watches) : IDisposable
    {
        public void Dispose()
        {
            foreach (var w in watches) w.Dispose();
        }
    }
}
