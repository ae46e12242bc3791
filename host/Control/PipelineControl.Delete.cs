using Microsoft.Extensions.Logging;

namespace PluginHost.Control;

/// <summary>Deleting a pipeline (<c>DELETE /pipelines/{name}</c>).</summary>
internal sealed partial class PipelineControl
{
    /// <summary><c>DELETE /pipelines/{name}</c>: stops and forgets the pipeline (its checkpoint too with <paramref name="forget"/>).</summary>
    public Task DeleteAsync(string name, bool forget, CancellationToken ct) => Locked(ct, async () =>
    {
        Get(name);
        RefuseFileName(name, "deleted");
        var shared = Publish != null;
        if (shared) await KeepAsync(name, null, ct).ConfigureAwait(false); // first: a refusal of the cluster changes nothing
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
        if (shared && _store.Paused.Remove(name)) _store.Save();
        if (!shared)
        {
            _store.Paused.Remove(name);
            await KeepAsync(name, null, ct).ConfigureAwait(false);
        }
        RemoveEntry(name);
        _logger.Deleted(name, forget ? " (checkpoint deleted)" : "");
        return true;
    });
}
