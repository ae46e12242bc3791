using PluginHost.Sdk;

namespace PluginHost.Checkpoints;

/// <summary>A plugin's <see cref="ICheckpointBackend"/> seen as the host's <see cref="ICheckpointStore"/>.</summary>
internal sealed class BackendCheckpointStore(ICheckpointBackend backend) : ICheckpointStore, IAsyncDisposable
{
    public ICheckpointBackend Backend => backend;

    public async Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken cancellationToken) =>
        await backend.LoadAsync(pipeline, cancellationToken).ConfigureAwait(false) is { } s
            ? new Checkpoint(s.File, s.Position, s.Gtid, s.UpdatedAt, s.EventsDelivered, s.LastEventTime, SnapshotProgress.FromJson(s.Snapshot))
            : null;

    public Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken cancellationToken) =>
        backend.SaveAsync(pipeline, new CheckpointState(checkpoint.File, checkpoint.Position, checkpoint.Gtid, checkpoint.UpdatedAt, checkpoint.EventsDelivered)
            { LastEventTime = checkpoint.LastEventTime, Snapshot = checkpoint.Snapshot?.ToJson() }, cancellationToken);

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken) => backend.DeleteAsync(pipeline, cancellationToken);

    public ValueTask DisposeAsync() => backend.DisposeAsync();
}
