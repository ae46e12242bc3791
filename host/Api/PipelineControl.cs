using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Binlog.Gtid;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Api;

/// <summary>Where a pipeline's definition comes from.</summary>
public enum PipelineOrigin
{
    /// <summary>The configuration file.</summary>
    File,

    /// <summary>Created or replaced over the REST API (kept in <c>state_dir/api-pipelines.yaml</c>).</summary>
    Api,
}

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
public sealed partial class PipelineControl : IHostedService
{
    /// <summary>One pipeline of the desired set (immutable; replaced on change).</summary>
    public sealed record Entry(string Name, PipelineOrigin Origin, PipelineDefinition? Definition, JsonObject? Raw, string? Invalid,
        bool Paused, PipelineStatus? Detached)
    {
        public bool Enabled => Definition?.Options.Enabled ?? false;
    }

    /// <summary>A pipeline with its live status: from <see cref="PipelineManager"/> when it runs there, else its detached status.</summary>
    public sealed record Snapshot(Entry Entry, PipelineStatus Status, PipelineRunner? Runner)
    {
        public string Name => Entry.Name;

        /// <summary>The state to show: <c>paused</c>, <c>disabled</c> (enabled: false) or the runner's.</summary>
        public string State => Entry.Paused ? "paused"
            : Entry.Invalid != null ? "failed"
            : !Entry.Enabled && Runner is null ? "disabled"
            : Status.State.ToString().ToLowerInvariant();

        public bool IsFailed => State == "failed";

        /// <summary>Chunks queued between reader and sink (0 when it does not run: the last reading would be stale).</summary>
        public int QueueDepth => Runner is null ? 0 : Status.QueueDepth;
    }

    /// <summary>The outcome of <c>POST /reload</c>.</summary>
    public sealed record ReloadResult(string File, IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed,
        IReadOnlyList<string> Unchanged, IReadOnlyList<string> OverriddenByApi, IReadOnlyList<string> RestartRequired);

    /// <summary>Where <c>POST /pipelines/{name}/seek</c> moves a pipeline (<c>checkpoint</c>: an entry of its history, by <paramref name="Id"/>).</summary>
    public sealed record SeekTarget(string Kind, string? File = null, long Position = 0, string? Gtid = null, long Id = 0)
    {
        public override string ToString() => Kind switch
        {
            "checkpoint" => $"checkpoint {Id}",
            "gtid" or "position" => PositionText.Format(File, Position, Gtid),
            _ => Kind,
        };
    }

    private static readonly JsonSerializerOptions Canonical = ApiJson.Configure(new JsonSerializerOptions());

    private readonly PipelineManager _manager;
    private readonly SinkCatalog _sinks;
    private readonly ICheckpointStore _checkpoints;
    private readonly CheckpointStoreCatalog _stores;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly ApiPipelineStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _lock = new();
    private readonly List<string> _notes;
    private List<Entry> _entries;
    private HostConfig _fileConfig;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);

    internal PipelineControl(Prepared prepared, PipelineManager manager, SinkCatalog sinks, ICheckpointStore checkpoints, CheckpointStoreCatalog stores,
        ILoggerFactory loggers)
    {
        _manager = manager;
        _sinks = sinks;
        _checkpoints = checkpoints;
        _stores = stores;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Api");
        _store = prepared.Store;
        _entries = prepared.Entries;
        _fileConfig = prepared.FileConfig;
        _notes = prepared.Notes;
        foreach (var e in _entries) _known.TryAdd(e.Name, 0);
    }

    /// <summary>The configuration file snapshot in force (the last one loaded or reloaded).</summary>
    public HostConfig FileConfig => _fileConfig;

    /// <summary>Where the API's changes are kept.</summary>
    public string StorePath => _store.Path;

    /// <summary>Every pipeline name this host has had (metrics from the shared meter are filtered by it).</summary>
    public bool IsKnown(string name) => _known.ContainsKey(name);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _stopping = new(StringComparer.Ordinal);

    /// <summary>
    /// Pipelines between states: starting (not yet reading, e.g. its first transform not compiled) or being stopped by
    /// a pause, restart, seek, replace or delete (draining what it read). <c>/health/ready</c> is 503 while any is. A
    /// pipeline whose first transform does not compile is failed, waiting for a person to fix the file: not counted.
    /// </summary>
    public IReadOnlyList<string> InTransition()
    {
        var names = new SortedSet<string>(_stopping.Keys, StringComparer.Ordinal);
        foreach (var s in List())
            if (s.State == "starting" && !s.Status.AwaitingTransformFix) names.Add(s.Name);
        return names.ToList();
    }

    /// <summary>Raised after each configuration reload with (kind, succeeded).</summary>
    public event Action<string, bool>? Reloaded;

    // ---------------------------------------------------------------- start: the file's pipelines + the API's changes

    /// <summary>The desired set computed before the host is built (the pipeline manager starts <see cref="Effective"/>).</summary>
    internal sealed record Prepared(HostConfig FileConfig, HostConfig Effective, ApiPipelineStore Store, List<Entry> Entries, List<string> Notes);

    /// <summary>Merges <paramref name="file"/> with <c>state_dir/api-pipelines.yaml</c>.</summary>
    internal static Prepared Prepare(HostConfig file)
    {
        var notes = new List<string>();
        ApiPipelineStore store;
        try
        {
            store = ApiPipelineStore.Load(file.StateDirectory, notes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(file.FilePath, null, "state_dir", $"cannot read {Path.Combine(file.StateDirectory, ApiPipelineStore.FileName)}: {e.Message}")]);
        }
        var entries = Merge(file, store, notes);
        var effective = new HostConfig(file.Options, file.FilePath,
            entries.Where(e => e.Definition != null && !e.Paused).Select(e => e.Definition!).ToList()) { Warnings = file.Warnings };
        return new Prepared(file, effective, store, entries, notes);
    }

    private static List<Entry> Merge(HostConfig file, ApiPipelineStore store, List<string> notes)
    {
        var entries = new List<Entry>();
        var fromApi = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in file.Pipelines)
        {
            if (store.Deleted.Contains(p.Name)) continue;
            if (store.Find(p.Name) is { } raw)
            {
                entries.Add(FromApi(raw, file, store, notes));
                fromApi.Add(p.Name);
            }
            else entries.Add(new Entry(p.Name, PipelineOrigin.File, p, null, null, store.Paused.Contains(p.Name), null));
        }
        foreach (var raw in store.Pipelines)
            if (!fromApi.Contains(ApiPipelineStore.NameOf(raw)!))
                entries.Add(FromApi(raw, file, store, notes));
        // Two pipelines reading the same server as the same replica would keep kicking each other off.
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not { Definition: { } d, Origin: PipelineOrigin.Api } e) continue;
            if (ServerIdClash(d, entries.Take(i).Concat(entries.Skip(i + 1)).Select(x => x.Definition)) is { } other)
            {
                var why = $"source.server_id: {d.Options.Source.ServerId} is also used by pipeline '{other}' on the same server; each needs its own";
                notes.Add($"{store.Path}: pipeline '{e.Name}': {why}");
                entries[i] = e with { Definition = null, Invalid = why };
            }
        }
        return entries.Select(e => e.Invalid != null ? e with { Detached = FailedStatus(e.Name, e.Invalid) } : e).ToList();
    }

    private static Entry FromApi(JsonObject raw, HostConfig file, ApiPipelineStore store, List<string> notes)
    {
        var name = ApiPipelineStore.NameOf(raw)!;
        try
        {
            var def = ConfigLoader.ParsePipeline(raw.ToJsonString(), store.Path, file) with { FromApi = true };
            if (ApiPaths.Check(def, file, store.Path) is { Count: > 0 } refused) throw new ConfigException(refused);
            return new Entry(name, PipelineOrigin.Api, def, raw, null, store.Paused.Contains(name), null);
        }
        catch (ConfigException e)
        {
            var why = string.Join("; ", e.Errors.Select(x => $"{x.Key}: {x.Message}"));
            notes.Add($"{store.Path}: pipeline '{name}' is not valid any more and does not run: {why}");
            return new Entry(name, PipelineOrigin.Api, null, raw, why, store.Paused.Contains(name), null);
        }
    }

    private static PipelineStatus FailedStatus(string name, string why)
    {
        var s = new PipelineStatus(name) { State = PipelineState.Failed };
        s.SetError(why);
        return s;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var note in _notes) _logger.LogWarning("{Note}", note);
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
            _logger.LogInformation("{Count} pipeline(s) from {File} (created or changed over the API)", n, _store.Path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // ---------------------------------------------------------------- reading

    public IReadOnlyList<Entry> Entries()
    {
        lock (_lock) return _entries.ToList();
    }

    public IReadOnlyList<Snapshot> List() => Entries().Select(SnapshotOf).ToList();

    public Snapshot? Find(string name) => Entries().FirstOrDefault(e => e.Name == name) is { } e ? SnapshotOf(e) : null;

    private Snapshot SnapshotOf(Entry e)
    {
        if (!e.Paused && _manager.Find(e.Name) is { } service) return new Snapshot(e, service.Status, service.Runner);
        // Not in the manager yet (host starting) or between a stop and a start (restart, seek): about to run.
        var state = e.Enabled && !e.Paused ? PipelineState.Starting : PipelineState.Stopped;
        return new Snapshot(e, e.Detached ?? new PipelineStatus(e.Name) { State = state, SinkType = e.Definition?.SinkType }, null);
    }

    private Entry Get(string name) => Entries().FirstOrDefault(e => e.Name == name) ?? throw ApiProblemException.NotFound(name);

    private void Replace(Entry entry)
    {
        lock (_lock)
        {
            var i = _entries.FindIndex(e => e.Name == entry.Name);
            if (i >= 0) _entries[i] = entry;
            else _entries.Add(entry);
        }
        _known.TryAdd(entry.Name, 0);
    }

    private void RemoveEntry(string name)
    {
        lock (_lock) _entries.RemoveAll(e => e.Name == name);
    }

    // ---------------------------------------------------------------- create, replace, delete

    /// <summary><c>POST /pipelines</c>: a new pipeline (409 when the name is taken).</summary>
    public Task<Snapshot> CreateAsync(string body, string? contentType, CancellationToken ct) => Locked(ct, async () =>
    {
        var (def, raw) = ParseBody(body, contentType, null);
        if (Entries().Any(e => e.Name == def.Name))
            throw ApiProblemException.Conflict($"a pipeline named '{def.Name}' exists: PUT /pipelines/{def.Name} replaces it");
        await ValidateAsync(def).ConfigureAwait(false);
        _store.Put(raw);
        _store.Deleted.Remove(def.Name);
        _store.Paused.Remove(def.Name);
        _store.Save();
        var entry = new Entry(def.Name, PipelineOrigin.Api, def, raw, null, false, null);
        Replace(entry);
        await ApplyAsync(null, entry).ConfigureAwait(false);
        _logger.LogInformation("pipeline {Pipeline}: created over the API", def.Name);
        return SnapshotOf(Get(def.Name));
    });

    /// <summary><c>PUT /pipelines/{name}</c>: creates or replaces (returns whether it was created).</summary>
    public Task<(Snapshot Pipeline, bool Created)> PutAsync(string name, string body, string? contentType, CancellationToken ct) => Locked(ct, async () =>
    {
        var (def, raw) = ParseBody(body, contentType, name);
        var old = Entries().FirstOrDefault(e => e.Name == name);
        await ValidateAsync(def).ConfigureAwait(false);
        _store.Put(raw);
        _store.Deleted.Remove(name);
        _store.Save();
        var entry = new Entry(name, PipelineOrigin.Api, def, raw, null, old?.Paused ?? false, old?.Paused == true ? old.Detached : null);
        Replace(entry);
        await ApplyAsync(old, entry).ConfigureAwait(false);
        _logger.LogInformation("pipeline {Pipeline}: {What} over the API", name, old is null ? "created" : "replaced");
        return (SnapshotOf(Get(name)), old is null);
    });

    /// <summary><c>DELETE /pipelines/{name}</c>: stops and forgets the pipeline (its checkpoint too with <paramref name="forget"/>).</summary>
    public Task DeleteAsync(string name, bool forget, CancellationToken ct) => Locked(ct, async () =>
    {
        Get(name);
        var definition = Get(name).Definition;
        var wasRunning = _manager.Find(name) != null;
        await StopAsync(name).ConfigureAwait(false);
        if (forget)
            await ChangeCheckpointAsync(name, definition, wasRunning, async store =>
            {
                // The position stays in the history (a pipeline created again under this name can seek back to it).
                if (await store.LoadAsync(name, CancellationToken.None).ConfigureAwait(false) is { } old)
                    await History.RecordAsync(name, old, "before delete", "DELETE ?forget=true", CancellationToken.None).ConfigureAwait(false);
                await store.DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        _store.Remove(name);
        _store.Paused.Remove(name);
        if (_fileConfig.Pipelines.Any(p => p.Name == name)) _store.Deleted.Add(name);
        _store.Save();
        RemoveEntry(name);
        _logger.LogInformation("pipeline {Pipeline}: deleted over the API{Forget}", name, forget ? " (checkpoint deleted)" : "");
        return true;
    });

    /// <summary>Makes the manager match a changed entry: start, replace (restart with the new definition) or stop.</summary>
    private async Task ApplyAsync(Entry? old, Entry entry)
    {
        var running = _manager.Find(entry.Name) != null;
        var same = old?.Definition != null && entry.Definition != null && CanonicalOf(old.Definition) == CanonicalOf(entry.Definition);
        if (entry.Paused || !entry.Enabled)
        {
            if (running)
            {
                var status = await StopAsync(entry.Name).ConfigureAwait(false);
                Replace(entry with { Detached = entry.Detached ?? status });
            }
            else if (entry.Detached is null)
                Replace(entry with { Detached = new PipelineStatus(entry.Name) { State = entry.Paused ? PipelineState.Paused : PipelineState.Stopped, SinkType = entry.Definition?.SinkType } });
            return;
        }
        if (running && same) return;
        if (running) await StopAsync(entry.Name).ConfigureAwait(false);
        await StartAsync(entry.Definition!).ConfigureAwait(false);
        Replace(entry with { Detached = null });
    }

    /// <summary>
    /// Stops a pipeline gracefully (it checkpoints what it delivered) and removes it from the manager. One stopped before
    /// its first checkpoint gets one where it began reading, so it resumes there — not at its configured start
    /// (e.g. <c>latest</c>, which would skip what happens meanwhile). Returns its last status (null when it did not run).
    /// </summary>
    private async Task<PipelineStatus?> StopAsync(string name)
    {
        var service = _manager.Find(name);
        if (service is null) return null;
        _stopping[name] = 0;
        try
        {
            await _manager.RemovePipelineAsync(name, false, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _stopping.TryRemove(name, out _);
        }
        if (service.Runner?.Origin is { File.Length: > 0 } origin)
        {
            try
            {
                await WithStoreAsync(service.Definition, async store =>
                {
                    if (await store.LoadAsync(name, CancellationToken.None).ConfigureAwait(false) is not null) return false;
                    var cp = new Checkpoint(origin.File, origin.Position, origin.Gtid, DateTimeOffset.UtcNow, 0);
                    await store.SaveAsync(name, cp, CancellationToken.None).ConfigureAwait(false);
                    service.Status.SetCheckpoint(cp);
                    return true;
                }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning("pipeline {Pipeline}: stopped before its first checkpoint, and saving one where it began failed: {Error}", name, e.Message);
            }
        }
        return service.Status;
    }

    /// <summary>Runs <paramref name="use"/> on the checkpoint store of <paramref name="definition"/> (the file store, or one opened from its plugin for the call).</summary>
    private async Task<T> WithStoreAsync<T>(PipelineDefinition? definition, Func<ICheckpointStore, Task<T>> use)
    {
        if (definition is null || definition.Options.Checkpoint.Type == CheckpointStoreCatalog.FileType) return await use(_checkpoints).ConfigureAwait(false);
        ICheckpointStore store;
        try
        {
            store = _stores.Open(definition, _fileConfig, _checkpoints, _loggers);
        }
        catch (SinkConfigurationException e)
        {
            throw new ApiProblemException(StatusCodes.Status502BadGateway, "Checkpoint store unavailable",
                $"cannot open the {definition.Options.Checkpoint.Type} checkpoint store of '{definition.Name}': {e.Message}");
        }
        try
        {
            return await use(store).ConfigureAwait(false);
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts (or replaces) a pipeline in the manager; its status shows the checkpoint it resumes from at once.</summary>
    private async Task StartAsync(PipelineDefinition definition)
    {
        await _manager.StartPipelineAsync(definition, CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_manager.Find(definition.Name)?.Status is { Checkpoint: null } status && definition.Options.Checkpoint.Type == CheckpointStoreCatalog.FileType &&
                await _checkpoints.LoadAsync(definition.Name, CancellationToken.None).ConfigureAwait(false) is { } cp && status.Checkpoint is null)
                status.SetCheckpoint(cp);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // The pipeline itself reports an unreadable checkpoint (it fails with the reason).
        }
    }

    // ---------------------------------------------------------------- pause, resume, restart, seek

    /// <summary>Stops the pipeline gracefully (its checkpoint is written) and keeps it listed as paused, across restarts too.</summary>
    public Task<Snapshot> PauseAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        if (e.Paused) return SnapshotOf(e);
        // Shown as paused from now on (not as stopped while it drains).
        Replace(e with { Paused = true, Detached = _manager.Find(name)?.Status ?? new PipelineStatus(name) { SinkType = e.Definition!.SinkType } });
        var status = await StopAsync(name).ConfigureAwait(false) ?? Get(name).Detached!;
        if (status.Checkpoint is null && await WithStoreAsync(e.Definition, s => s.LoadAsync(name, CancellationToken.None)).ConfigureAwait(false) is { } cp)
            status.SetCheckpoint(cp);
        status.State = PipelineState.Paused;
        _store.Paused.Add(name);
        _store.Save();
        Replace(e with { Paused = true, Detached = status });
        _logger.LogInformation("pipeline {Pipeline}: paused over the API at {Checkpoint}", name, (object?)status.Checkpoint ?? "(no checkpoint)");
        return SnapshotOf(Get(name));
    });

    /// <summary>Starts a paused (or stopped, or failed) pipeline from its checkpoint; a running one is left as it is.</summary>
    public Task<Snapshot> ResumeAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        if (!e.Enabled) throw ApiProblemException.Conflict($"pipeline '{name}' is disabled (enabled: false): PUT it with enabled: true");
        if (!e.Paused && _manager.Find(name) is { } s && s.Status.State is not (PipelineState.Failed or PipelineState.Stopped))
            return SnapshotOf(e);
        if (_store.Paused.Remove(name)) _store.Save();
        var resumed = e with { Paused = false, Detached = null };
        Replace(resumed);
        await StartAsync(resumed.Definition!).ConfigureAwait(false);
        _logger.LogInformation("pipeline {Pipeline}: resumed over the API", name);
        return SnapshotOf(Get(name));
    });

    /// <summary>Stops (gracefully) and starts the pipeline again from its checkpoint; a paused one is resumed.</summary>
    public Task<Snapshot> RestartAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        if (!e.Enabled) throw ApiProblemException.Conflict($"pipeline '{name}' is disabled (enabled: false): PUT it with enabled: true");
        if (_store.Paused.Remove(name)) _store.Save();
        var restarted = e with { Paused = false, Detached = null };
        await StopAsync(name).ConfigureAwait(false);
        Replace(restarted);
        await StartAsync(restarted.Definition!).ConfigureAwait(false);
        _logger.LogInformation("pipeline {Pipeline}: restarted over the API", name);
        return SnapshotOf(Get(name));
    });

    /// <summary>
    /// Moves the pipeline: stops it (gracefully), saves a checkpoint at the target (<c>latest</c> and <c>earliest</c> are
    /// resolved on the source server now), and starts it again from there — a paused pipeline stays paused, at the new place.
    /// </summary>
    public Task<Snapshot> SeekAsync(string name, SeekTarget target, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        var def = e.Definition!;
        var note = $"seek to {target}";
        string? field = null;
        if (target.Kind == "checkpoint")
        {
            var history = await HistoryAsync(name, ct).ConfigureAwait(false);
            var entry = history.FirstOrDefault(h => h.Id == target.Id)
                        ?? throw new ApiProblemException(StatusCodes.Status400BadRequest, "Invalid seek target", $"cannot seek pipeline '{name}'",
                            new Dictionary<string, string[]>
                            {
                                ["checkpoint"] = [history.Count == 0 ? $"'{name}' has no checkpoint history yet"
                                    : $"{target.Id} is not in the history of '{name}' (GET /pipelines/{name}/checkpoints; it has {string.Join(", ", history.Select(h => h.Id))})"],
                            });
            var cp = entry.Checkpoint;
            target = cp.File.Length > 0 ? new SeekTarget("position", cp.File, cp.Position, cp.Gtid, target.Id) : new SeekTarget("gtid", Gtid: cp.Gtid, Id: target.Id);
            note = $"seek to checkpoint {entry.Id} ({target})";
            field = "checkpoint";
        }
        // Check (and resolve) the place on the server before stopping anything: a refused target changes nothing.
        (string File, long Position, string? Gtid) place;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(def.Connection.ConnectTimeout + TimeSpan.FromSeconds(10));
            await using var c = await MySqlProtocolConnection.OpenAsync(def.Connection, timeout.Token).ConfigureAwait(false);
            place = await SeekValidator.ResolveAsync(c, target, timeout.Token, field).ConfigureAwait(false);
        }
        catch (Exception x) when (x is MySqlException or BinlogReplicationException or IOException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new ApiProblemException(StatusCodes.Status502BadGateway, "Source unavailable",
                Secrets.Scrub($"cannot check '{target}' on {def.Connection.Host}:{def.Connection.Port}: {x.Message}", Secrets.ValuesOf(def)));
        }
        var running = !e.Paused && _manager.Find(name) != null;
        if (running) await StopAsync(name).ConfigureAwait(false);
        var (previous, moved) = await ChangeCheckpointAsync(name, def, running && e.Enabled, async store =>
        {
            var old = await store.LoadAsync(name, CancellationToken.None).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow;
            var next = old is null
                ? new Checkpoint(place.File, place.Position, place.Gtid, now, 0)
                : old with { File = place.File, Position = place.Position, Gtid = place.Gtid, UpdatedAt = now };
            // The replaced position goes to the history first: if that fails, nothing is moved.
            if (old != null) await History.RecordAsync(name, old, "before seek", note, CancellationToken.None).ConfigureAwait(false);
            await store.SaveAsync(name, next, CancellationToken.None).ConfigureAwait(false);
            return (old, next);
        }).ConfigureAwait(false);
        try
        {
            await History.RecordAsync(name, moved, "seek", note, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            _logger.LogWarning("pipeline {Pipeline}: the seek's position was not noted in the checkpoint history: {Error}", name, x.Message);
        }
        _logger.LogInformation("pipeline {Pipeline}: moved over the API to {Target} (was {Previous})", name, moved, (object?)previous ?? "no checkpoint");
        if (e.Paused || !e.Enabled)
        {
            var status = e.Detached ?? new PipelineStatus(name) { State = e.Paused ? PipelineState.Paused : PipelineState.Stopped };
            status.SetCheckpoint(moved);
            Replace(e with { Detached = status });
        }
        else await StartAsync(def).ConfigureAwait(false);
        return SnapshotOf(Get(name));
    });

    /// <summary>Reads a seek body: <c>"latest"</c>, <c>{"start":"latest"|"earliest"|{…}}</c>, <c>{"gtid":…}</c>, <c>{"file":…,"pos":…}</c> or <c>{"checkpoint":ID}</c>.</summary>
    public static SeekTarget ParseSeek(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>();
        SeekTarget? Fail(string key, string message)
        {
            errors[key] = [message];
            return null;
        }
        SeekTarget? Read(JsonElement e, string prefix)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    return e.GetString() switch
                    {
                        "latest" => new SeekTarget("latest"),
                        "earliest" => new SeekTarget("earliest"),
                        var s => Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'), $"'{s}' is not latest or earliest (or send {{\"gtid\": …}} / {{\"file\": …, \"pos\": …}})"),
                    };
                case JsonValueKind.Object:
                {
                    var keys = e.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                    if (keys.SetEquals(["start"])) return Read(e.GetProperty("start"), prefix + "start.");
                    if (keys.SetEquals(["gtid"]))
                    {
                        var g = e.GetProperty("gtid");
                        if (g.ValueKind != JsonValueKind.String || g.GetString() is not { Length: > 0 } gtid)
                            return Fail(prefix + "gtid", "must be a GTID text: MariaDB 0-1-42[,…] or MySQL uuid:1-42[,…]");
                        if (MariaDbGtidList.TryParse(gtid, out var mariaDb)) return new SeekTarget("gtid", Gtid: mariaDb.ToString());
                        if (MySqlGtidSet.TryParse(gtid, out var mySql)) return new SeekTarget("gtid", Gtid: mySql.ToString());
                        return Fail(prefix + "gtid", $"'{gtid}' is neither a MariaDB GTID (0-1-42) nor a MySQL GTID set (uuid:1-42)");
                    }
                    if (keys.SetEquals(["checkpoint"]) && prefix.Length == 0)
                    {
                        var c = e.GetProperty("checkpoint");
                        return (c.ValueKind == JsonValueKind.Number ? c.TryGetInt64(out var id) : c.ValueKind == JsonValueKind.String && long.TryParse(c.GetString(), out id)) && id > 0
                            ? new SeekTarget("checkpoint", Id: id)
                            : Fail("checkpoint", "must be the id of an entry of GET /pipelines/{name}/checkpoints");
                    }
                    if (keys.SetEquals(["file", "pos"]) || keys.SetEquals(["file"]))
                    {
                        var f = e.GetProperty("file");
                        if (f.ValueKind != JsonValueKind.String || f.GetString() is not { Length: > 0 } file || file.IndexOfAny(['/', '\\', '\'', '\0']) >= 0)
                            return Fail(prefix + "file", "must be a binlog file name, e.g. mysql-bin.000003");
                        long pos = 4;
                        if (e.TryGetProperty("pos", out var p) &&
                            !(p.ValueKind == JsonValueKind.Number ? p.TryGetInt64(out pos) : p.ValueKind == JsonValueKind.String && long.TryParse(p.GetString(), out pos)))
                            return Fail(prefix + "pos", "must be a whole number");
                        if (pos < 4) return Fail(prefix + "pos", "must be 4 or more (an event boundary)");
                        return new SeekTarget("position", file, pos);
                    }
                    return Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'),
                        $"unexpected keys {string.Join(", ", keys.Order())}: send \"latest\", {{\"gtid\": …}}, {{\"file\": …, \"pos\": …}} or {{\"checkpoint\": ID}}");
                }
                default:
                    return Fail(prefix.Length == 0 ? "(body)" : prefix.TrimEnd('.'), "send \"latest\", \"earliest\", {\"gtid\": …} or {\"file\": …, \"pos\": …}");
            }
        }
        return Read(body, "") ?? throw ApiProblemException.Invalid("invalid seek target", errors);
    }

    /// <summary>An entry that has a valid definition (invalid stored ones can only be replaced or deleted).</summary>
    private Entry Usable(string name)
    {
        var e = Get(name);
        if (e.Definition is null)
            throw ApiProblemException.Conflict($"pipeline '{name}' is not valid ({e.Invalid}): PUT a corrected definition or DELETE it");
        return e;
    }

    // ---------------------------------------------------------------- reload

    /// <summary>
    /// <c>POST /reload</c>: reads the configuration file again and applies it pipeline by pipeline (added ones start,
    /// changed ones restart with the new definition, removed ones stop; unchanged ones are not touched). An invalid
    /// file changes nothing. Pipelines the API created or replaced keep the API's definition.
    /// </summary>
    public Task<ReloadResult> ReloadAsync(CancellationToken ct) => Locked(ct, async () =>
    {
        HostConfig next;
        try
        {
            try
            {
                next = ConfigLoader.Load(_fileConfig.FilePath, sinkTypes: _sinks.Types);
            }
            catch (ConfigException e)
            {
                var secrets = Entries().SelectMany(x => Secrets.ValuesOf(x.Definition)).ToList();
                throw new ApiProblemException(StatusCodes.Status400BadRequest, "Invalid configuration",
                    $"{_fileConfig.FilePath} was not applied ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")}); nothing changed",
                    ApiProblemException.ErrorsOf(e.Errors, pipelinePrefix: true, secrets));
            }
            var current = Entries();
            var fileOwned = current.Where(x => x.Origin == PipelineOrigin.File).ToDictionary(x => x.Name, StringComparer.Ordinal);
            var wanted = next.Pipelines.Where(p => !_store.Deleted.Contains(p.Name) && _store.Find(p.Name) is null).ToList();
            var overridden = next.Pipelines.Where(p => _store.Find(p.Name) is not null || _store.Deleted.Contains(p.Name)).Select(p => p.Name).ToList();
            var added = wanted.Where(p => !fileOwned.ContainsKey(p.Name)).ToList();
            var changed = wanted.Where(p => fileOwned.TryGetValue(p.Name, out var o) && CanonicalOf(o.Definition!) != CanonicalOf(p)).ToList();
            var unchanged = wanted.Where(p => fileOwned.TryGetValue(p.Name, out var o) && CanonicalOf(o.Definition!) == CanonicalOf(p)).Select(p => p.Name).ToList();
            var removed = fileOwned.Keys.Where(n => wanted.All(p => p.Name != n)).ToList();

            // Validate everything that will start before touching anything.
            var errors = new List<ConfigError>();
            var after = current.Where(x => x.Origin == PipelineOrigin.Api).Select(x => x.Definition).Concat(wanted).ToList();
            foreach (var p in added.Concat(changed))
            {
                if (ServerIdClash(p, after.Where(d => d != null && !ReferenceEquals(d, p))) is { } other)
                    errors.Add(new ConfigError(next.FilePath, p.Name, "source.server_id", $"{p.Options.Source.ServerId} is also used by pipeline '{other}' on the same server"));
                errors.AddRange(await SinkErrorsAsync(p, next).ConfigureAwait(false));
            }
            if (errors.Count > 0)
                throw new ApiProblemException(StatusCodes.Status400BadRequest, "Invalid configuration",
                    $"{next.FilePath} was not applied; nothing changed", ApiProblemException.ErrorsOf(errors, true, wanted.SelectMany(Secrets.ValuesOf).ToList()));

            _fileConfig = next;
            foreach (var name in removed)
            {
                await StopAsync(name).ConfigureAwait(false);
                RemoveEntry(name);
            }
            if (_store.Paused.RemoveWhere(n => removed.Contains(n)) > 0) _store.Save();
            foreach (var p in added)
            {
                var entry = new Entry(p.Name, PipelineOrigin.File, p, null, null, _store.Paused.Contains(p.Name), null);
                Replace(entry);
                await ApplyAsync(null, entry).ConfigureAwait(false);
            }
            foreach (var p in changed)
            {
                var old = fileOwned[p.Name];
                var entry = old with { Definition = p };
                Replace(entry);
                await ApplyAsync(old, entry).ConfigureAwait(false);
            }
            var restart = RestartRequired(_manager.Config.Options, next.Options);
            var result = new ReloadResult(next.FilePath, added.Select(p => p.Name).ToList(), changed.Select(p => p.Name).ToList(), removed, unchanged, overridden, restart);
            _logger.LogInformation("configuration reloaded from {File}: {Added} added, {Changed} changed, {Removed} removed, {Unchanged} unchanged{Restart}",
                next.FilePath, result.Added.Count, result.Changed.Count, result.Removed.Count, result.Unchanged.Count,
                restart.Count > 0 ? $"; needs a restart to apply: {string.Join(", ", restart)}" : "");
            Reloaded?.Invoke("config", true);
            return result;
        }
        catch (ApiProblemException)
        {
            _logger.LogWarning("configuration reload from {File} rejected; nothing changed", _fileConfig.FilePath);
            Reloaded?.Invoke("config", false);
            throw;
        }
    });

    private static List<string> RestartRequired(Config.HostOptions running, Config.HostOptions next)
    {
        var list = new List<string>();
        void Check(string key, object? a, object? b)
        {
            if (JsonSerializer.Serialize(a, Canonical) != JsonSerializer.Serialize(b, Canonical)) list.Add(key);
        }
        Check("server", running.Server, next.Server);
        Check("log", running.Log, next.Log);
        Check("memory", running.Memory, next.Memory);
        Check("state_dir", running.StateDir, next.StateDir);
        Check("plugins_dir", running.PluginsDir, next.PluginsDir);
        Check("transforms_dir", running.TransformsDir, next.TransformsDir);
        Check("output_dir", running.OutputDir, next.OutputDir);
        return list;
    }

    // ---------------------------------------------------------------- validation

    /// <summary>Reads a JSON or YAML body (by Content-Type) and validates it exactly like a pipeline of the configuration file.</summary>
    private (PipelineDefinition Definition, JsonObject Raw) ParseBody(string body, string? contentType, string? nameFromPath)
    {
        var media = (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var obj = RequestBody.ReadPipeline(body, media);
        if (nameFromPath != null)
        {
            switch (obj["name"])
            {
                case null:
                    obj["name"] = nameFromPath;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var n) && n == nameFromPath:
                    break;
                default:
                    throw ApiProblemException.Invalid("the name in the body differs from the URL", new Dictionary<string, string[]>
                    {
                        ["name"] = [$"must be '{nameFromPath}' (as in the URL) or left out; renaming is DELETE + POST"],
                    });
            }
        }
        PipelineDefinition def;
        try
        {
            def = ConfigLoader.ParsePipeline(obj.ToJsonString(), "request body", _fileConfig, _sinks.Types) with { FromApi = true };
            if (ApiPaths.Check(def, _fileConfig, "request body") is { Count: > 0 } refused) throw new ConfigException(refused);
        }
        catch (ConfigException e)
        {
            throw ApiProblemException.Invalid($"the pipeline is not valid ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")})",
                ApiProblemException.ErrorsOf(e.Errors, false, SecretsOfRaw(obj)));
        }
        return (def, (JsonObject)obj.DeepClone());
    }

    private static IReadOnlyList<string> SecretsOfRaw(JsonObject raw)
    {
        var values = new List<string>();
        void Walk(JsonNode? n, bool secret)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Walk(v, secret || Secrets.IsSecretKey(k));
                    break;
                case JsonArray a:
                    foreach (var v in a) Walk(v, secret);
                    break;
                case JsonValue v when secret && v.TryGetValue<string>(out var s) && s.Length >= 3:
                    values.Add(s);
                    break;
            }
        }
        Walk(raw, false);
        return values;
    }

    /// <summary>Checks what only the host knows: the server id against the other pipelines, the checkpoint store, the sink's settings.</summary>
    private async Task ValidateAsync(PipelineDefinition def)
    {
        var errors = new List<ConfigError>();
        if (ServerIdClash(def, Entries().Where(e => e.Name != def.Name).Select(e => e.Definition)) is { } other)
            errors.Add(new ConfigError("request body", def.Name, "source.server_id",
                $"{def.Options.Source.ServerId} is also used by pipeline '{other}' on the same server; each needs its own"));
        errors.AddRange(await SinkErrorsAsync(def, _fileConfig).ConfigureAwait(false));
        if (errors.Count > 0)
            throw ApiProblemException.Invalid($"the pipeline is not valid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")})",
                ApiProblemException.ErrorsOf(errors, false, Secrets.ValuesOf(def)));
    }

    /// <summary>Creates the sink once (then disposes it) so bad sink settings are refused now, like at start.</summary>
    private async Task<List<ConfigError>> SinkErrorsAsync(PipelineDefinition p, HostConfig config)
    {
        var errors = new List<ConfigError>();
        if (p.Options.Checkpoint.Type != CheckpointStoreCatalog.FileType)
        {
            try
            {
                var store = _stores.Open(p, config, _checkpoints, NullLoggerFactory.Instance);
                if (store is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
            }
            catch (SinkConfigurationException e)
            {
                errors.Add(new ConfigError(config.FilePath, p.Name, "checkpoint." + e.Key,
                    e.Message.StartsWith(e.Key + ": ", StringComparison.Ordinal) ? e.Message[(e.Key.Length + 2)..] : e.Message));
            }
        }
        try
        {
            var sink = PipelineService.CreateSink(p, config, _sinks, NullLoggerFactory.Instance);
            await sink.DisposeAsync().ConfigureAwait(false);
        }
        catch (SinkConfigurationException e)
        {
            errors.Add(new ConfigError(config.FilePath, p.Name, "sink." + e.Key, e.Message.StartsWith(e.Key + ": ", StringComparison.Ordinal) ? e.Message[(e.Key.Length + 2)..] : e.Message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(new ConfigError(config.FilePath, p.Name, "sink", e.Message));
        }
        return errors;
    }

    private static string? ServerIdClash(PipelineDefinition p, IEnumerable<PipelineDefinition?> others)
    {
        var s = p.Options.Source;
        return others.FirstOrDefault(o => o != null && o.Name != p.Name && o.Options.Source.ServerId == s.ServerId &&
                                          o.Options.Source.Port == s.Port && string.Equals(o.Options.Source.Host, s.Host, StringComparison.OrdinalIgnoreCase))?.Name;
    }

    private static string CanonicalOf(PipelineDefinition d) => JsonSerializer.Serialize(d.Options, Canonical);

    /// <summary>The options of a pipeline as JSON (for <c>GET /pipelines/{name}</c>; redact before showing).</summary>
    /// <remarks>
    /// The bound options (typed, with defaults); for a pipeline sent over the API, values that were <c>${ENV}</c>
    /// references show the reference, not what it expanded to.
    /// </remarks>
    internal static JsonNode? OptionsJson(Entry e)
    {
        if (e.Definition is not { } d) return e.Raw?.DeepClone();
        var typed = JsonSerializer.SerializeToNode(d.Options, Canonical);
        if (e.Raw is { } raw && typed != null) KeepReferences(raw, typed);
        return typed;
    }

    private static void KeepReferences(JsonNode raw, JsonNode typed)
    {
        static string Key(string k) => k.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        switch (raw, typed)
        {
            case (JsonObject r, JsonObject t):
                foreach (var (k, v) in r)
                {
                    var key = t.ContainsKey(k) ? k : t.Select(x => x.Key).FirstOrDefault(x => Key(x) == Key(k));
                    if (key is null || v is null) continue;
                    if (v is JsonValue value && value.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal)) t[key] = s;
                    else if (t[key] is { } child) KeepReferences(v, child);
                }
                break;
            case (JsonArray r, JsonArray t):
                for (var i = 0; i < Math.Min(r.Count, t.Count); i++)
                {
                    if (r[i] is JsonValue value && value.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal)) t[i] = s;
                    else if (r[i] is { } rc && t[i] is { } tc) KeepReferences(rc, tc);
                }
                break;
        }
    }

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
        }
    }

    private Task Locked(CancellationToken ct, Func<Task<bool>> action) => Locked<bool>(ct, action);
}
