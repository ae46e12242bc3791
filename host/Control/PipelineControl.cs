using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;

namespace PluginHost.Control;

/// <summary>
/// The set of pipelines the host should run — the configuration file's, overlaid with what the REST API changed — and
/// every operation on it: create, replace, delete, pause, resume, restart, seek, reload. Operations run one at a time;
/// each validates first and changes nothing when it fails. <see cref="PipelineManager"/> runs the pipelines that are
/// neither paused nor disabled; this class keeps the others (and their last status) listed.
/// </summary>
/// <remarks>
/// Precedence: a pipeline the API created or replaced wins over a configuration-file pipeline of the same name, at
/// start and on reload; a configuration-file pipeline deleted over the API stays deleted (until one of that name is
/// created over the API again). Paused pipelines stay paused across restarts.
/// </remarks>
internal sealed partial class PipelineControl : IHostedService
{
    private readonly PipelineManager _manager;
    private readonly SinkCatalog _sinks;
    private readonly ICheckpointStore _checkpoints;
    private readonly CheckpointStoreCatalog _stores;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly ApiPipelineStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, byte> _stopping = new(StringComparer.Ordinal);
    private readonly List<string> _notes;
    private readonly DesiredPipelines _desired;
    private HostConfig _fileConfig;

    internal PipelineControl(Prepared prepared, PipelineManager manager, SinkCatalog sinks, ICheckpointStore checkpoints, CheckpointStoreCatalog stores,
        ILoggerFactory loggers)
    {
        _manager = manager;
        _sinks = sinks;
        _checkpoints = checkpoints;
        _stores = stores;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Api"); // the category the log has always shown
        _store = prepared.Store;
        _desired = new DesiredPipelines(prepared.Entries);
        _fileConfig = prepared.FileConfig;
        _notes = prepared.Notes;
    }

    /// <summary>The configuration file snapshot in force (the last one loaded or reloaded).</summary>
    public HostConfig FileConfig => _fileConfig;

    /// <summary>Where the API's changes are kept.</summary>
    public string StorePath => _store.Path;

    /// <summary>Every pipeline name this host has had (metrics from the shared meter are filtered by it).</summary>
    public bool IsKnown(string name) => _desired.IsKnown(name);

    /// <summary>
    /// Pipelines between states: starting (not yet reading, e.g. its first transform not compiled) or being stopped by
    /// a pause, restart, seek, replace or delete (draining what it read). <c>/health/ready</c> is 503 while any is. A
    /// pipeline whose first transform does not compile is failed, waiting for a person to fix the file: not counted.
    /// </summary>
    public IReadOnlyList<string> InTransition()
    {
        var names = new SortedSet<string>(_stopping.Keys, StringComparer.Ordinal);
        foreach (var s in List())
            if (s.State == PipelineDisplayState.Starting && !s.Status.AwaitingTransformFix) names.Add(s.Name);
        return names.ToList();
    }

    /// <summary>Raised after each configuration reload with (kind, succeeded).</summary>
    public event Action<string, bool>? Reloaded;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var note in _notes) _logger.Note(note);
        // Paused pipelines are not run by the manager: show where they stand.
        foreach (var e in Entries())
        {
            if (!e.Paused && e.Enabled || e.Invalid != null) continue;
            var status = new PipelineStatus(e.Name) { State = e.Paused ? PipelineState.Paused : PipelineState.Stopped, SinkType = e.Definition?.SinkType };
            try
            {
                if (await WithStoreAsync(e.Definition, s => s.LoadAsync(e.Name, cancellationToken)).ConfigureAwait(false) is { } cp) status.SetCheckpoint(cp);
            }
            catch (Exception x) when (x is not OperationCanceledException)
            {
                status.SetError(x.Message);
            }
            Replace(e with { Detached = status });
        }
        if (Entries().Count(e => e.Origin == PipelineOrigin.Api) is var n and > 0)
            _logger.ApiPipelinesLoaded(n, _store.Path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // ---------------------------------------------------------------- reading

    /// <summary>The desired set now.</summary>
    public IReadOnlyList<PipelineEntry> Entries() => _desired.All;

    public IReadOnlyList<PipelineSnapshot> List() => Entries().Select(SnapshotOf).ToList();

    public PipelineSnapshot? Find(string name) => _desired.Find(name) is { } e ? SnapshotOf(e) : null;

    private PipelineSnapshot SnapshotOf(PipelineEntry e)
    {
        if (!e.Paused && _manager.Find(e.Name) is { } service) return new PipelineSnapshot(e, service.Status, service.Runner);
        // Not in the manager yet (host starting) or between a stop and a start (restart, seek): about to run.
        var state = e.Enabled && !e.Paused ? PipelineState.Starting : PipelineState.Stopped;
        return new PipelineSnapshot(e, e.Detached ?? new PipelineStatus(e.Name) { State = state, SinkType = e.Definition?.SinkType }, null);
    }

    private PipelineEntry Get(string name) => _desired.Find(name) ?? throw ControlException.NotFound(name);

    private void Replace(PipelineEntry entry) => _desired.Put(entry);

    private void RemoveEntry(string name) => _desired.Remove(name);

    /// <summary>Runs one operation at a time.</summary>
    private async Task<T> Locked<T>(CancellationToken ct, Func<Task<T>> action)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await action().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            Changed?.Invoke(); // after every operation, done or refused: its state changes are seen as it answers
        }
    }

    /// <summary>Raised after each operation on the pipeline set (pause, resume, seek, define, reload…), outside the lock.</summary>
    public event Action? Changed;

    private Task Locked(CancellationToken ct, Func<Task<bool>> action) => Locked<bool>(ct, action);
}
