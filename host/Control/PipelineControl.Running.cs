using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Control;

/// <summary>Making the pipeline manager match the desired set: start, stop, and the checkpoint store of a pipeline.</summary>
internal sealed partial class PipelineControl
{
    /// <summary>Makes the manager match a changed entry: start, replace (restart with the new definition) or stop.</summary>
    private async Task ApplyAsync(PipelineEntry? old, PipelineEntry entry)
    {
        var running = _manager.Find(entry.Name) != null;
        var same = old?.Definition != null && entry.Definition != null && PipelineOptionsJson.CanonicalOf(old.Definition) == PipelineOptionsJson.CanonicalOf(entry.Definition);
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
                _logger.FirstCheckpointFailed(name, e.Message);
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
            throw new ControlException(ControlErrorKind.Unavailable, "Checkpoint store unavailable",
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
        if (!Owns(definition.Name)) return; // cluster mode: another node runs it
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
}
