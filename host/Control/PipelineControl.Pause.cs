using Microsoft.Extensions.Logging;
using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>Pause, resume and restart.</summary>
internal sealed partial class PipelineControl
{
    /// <summary>Stops the pipeline gracefully (its checkpoint is written) and keeps it listed as paused, across restarts too.</summary>
    public Task<PipelineSnapshot> PauseAsync(string name, CancellationToken ct) => Locked(ct, async () =>
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
        _logger.Paused(name, (object?)status.Checkpoint ?? "(no checkpoint)");
        return SnapshotOf(Get(name));
    });

    /// <summary>Starts a paused (or stopped, or failed) pipeline from its checkpoint; a running one is left as it is.</summary>
    public Task<PipelineSnapshot> ResumeAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        if (!e.Enabled) throw ControlException.Conflict($"pipeline '{name}' is disabled (enabled: false): PUT it with enabled: true");
        if (!e.Paused && _manager.Find(name) is { } s && s.Status.State is not (PipelineState.Failed or PipelineState.Stopped))
            return SnapshotOf(e);
        if (_store.Paused.Remove(name)) _store.Save();
        var resumed = e with { Paused = false, Detached = null };
        Replace(resumed);
        await StartAsync(resumed.Definition!).ConfigureAwait(false);
        _logger.Resumed(name);
        return SnapshotOf(Get(name));
    });

    /// <summary>Stops (gracefully) and starts the pipeline again from its checkpoint; a paused one is resumed.</summary>
    public Task<PipelineSnapshot> RestartAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        if (!e.Enabled) throw ControlException.Conflict($"pipeline '{name}' is disabled (enabled: false): PUT it with enabled: true");
        if (_store.Paused.Remove(name)) _store.Save();
        var restarted = e with { Paused = false, Detached = null };
        await StopAsync(name).ConfigureAwait(false);
        Replace(restarted);
        await StartAsync(restarted.Definition!).ConfigureAwait(false);
        _logger.Restarted(name);
        return SnapshotOf(Get(name));
    });

    /// <summary>An entry that has a valid definition (invalid stored ones can only be replaced or deleted).</summary>
    private PipelineEntry Usable(string name)
    {
        var e = Get(name);
        if (e.Definition is null)
            throw ControlException.Conflict($"pipeline '{name}' is not valid ({e.Invalid}): PUT a corrected definition or DELETE it");
        return e;
    }
}
