using PluginHost.Checkpoints;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>The checkpoint history side of the operations (<c>GET /pipelines/{name}/checkpoints</c>, seek, delete).</summary>
internal sealed partial class PipelineControl
{
    /// <summary>The pipelines' position histories (under the running state directory).</summary>
    public CheckpointHistory History => new(_manager.Config.StateDirectory);

    /// <summary><c>GET /pipelines/{name}/checkpoints</c>: the pipeline's remembered positions, newest first.</summary>
    public async Task<IReadOnlyList<CheckpointHistoryEntry>> HistoryAsync(string name, CancellationToken ct)
    {
        Get(name);
        try
        {
            return await History.ListAsync(name, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ControlException(ControlErrorKind.Failed, "Checkpoint history unreadable", e.Message);
        }
    }

    /// <summary>
    /// Runs a change of a stopped pipeline's checkpoint. When it fails, nothing moved: a pipeline that was running
    /// (<paramref name="restart"/>) starts again from where it was, and the call is refused.
    /// </summary>
    private async Task<T> ChangeCheckpointAsync<T>(string name, PipelineDefinition? definition, bool restart, Func<ICheckpointStore, Task<T>> change)
    {
        try
        {
            return await WithStoreAsync(definition, change).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (ControlException or OperationCanceledException or OutOfMemoryException))
        {
            if (restart && definition != null) await StartAsync(definition).ConfigureAwait(false);
            throw new ControlException(ControlErrorKind.Failed, "Checkpoint not changed",
                Secrets.Scrub($"the checkpoint of '{name}' was left as it was: {e.Message}", Secrets.ValuesOf(definition))!);
        }
    }
}
