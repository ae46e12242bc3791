using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>Moving a pipeline to another binlog position (<c>POST /pipelines/{name}/seek</c>).</summary>
internal sealed partial class PipelineControl
{
    /// <summary>
    /// Moves the pipeline: stops it (gracefully), saves a checkpoint at the target (<c>latest</c> and <c>earliest</c> are
    /// resolved on the source server now), and starts it again from there — a paused pipeline stays paused, at the new place.
    /// </summary>
    public Task<PipelineSnapshot> SeekAsync(string name, SeekTarget target, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        var def = e.Definition!;
        var note = $"seek to {target}";
        string? field = null;
        if (target.Kind == SeekKind.Checkpoint)
        {
            var history = await HistoryAsync(name, ct).ConfigureAwait(false);
            var entry = history.FirstOrDefault(h => h.Id == target.Id)
                        ?? throw new ControlException(ControlErrorKind.Invalid, "Invalid seek target", $"cannot seek pipeline '{name}'",
                            new Dictionary<string, string[]>
                            {
                                ["checkpoint"] = [history.Count == 0 ? $"'{name}' has no checkpoint history yet"
                                    : $"{target.Id} is not in the history of '{name}' (GET /pipelines/{name}/checkpoints; it has {string.Join(", ", history.Select(h => h.Id))})"],
                            });
            var cp = entry.Checkpoint;
            target = cp.File.Length > 0 ? new SeekTarget(SeekKind.Position, cp.File, cp.Position, cp.Gtid, target.Id) : new SeekTarget(SeekKind.Gtid, Gtid: cp.Gtid, Id: target.Id);
            note = $"seek to checkpoint {entry.Id} ({target})";
            field = "checkpoint";
        }
        // Check (and resolve) the place on the server before stopping anything: a refused target changes nothing.
        var place = await SeekValidator.ResolveOnSourceAsync(def, target, field, ct).ConfigureAwait(false);
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
            _logger.SeekHistoryFailed(name, x.Message);
        }
        _logger.Moved(name, moved, (object?)previous ?? "no checkpoint");
        if (e.Paused || !e.Enabled)
        {
            var status = e.Detached ?? new PipelineStatus(name) { State = e.Paused ? PipelineState.Paused : PipelineState.Stopped };
            status.SetCheckpoint(moved);
            Replace(e with { Detached = status });
        }
        else await StartAsync(def).ConfigureAwait(false);
        return SnapshotOf(Get(name));
    });
}
