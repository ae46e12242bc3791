namespace PluginHost.Sdk;

/// <summary>
/// A checkpoint store a plugin provides (the <c>checkpoint: { type: … }</c> of a pipeline other than <c>file</c>).
/// The host calls one method at a time per pipeline. <see cref="SaveAsync"/> returns only when the checkpoint is
/// durable and must throw when it is not: the pipeline then holds and retries rather than run ahead of its state.
/// </summary>
public interface ICheckpointBackend : IAsyncDisposable
{
    /// <summary>The saved checkpoint of a pipeline, or null when it has none.</summary>
    Task<CheckpointState?> LoadAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>Durably saves a pipeline's checkpoint (replacing the previous one); throws when it could not.</summary>
    Task SaveAsync(string pipeline, CheckpointState checkpoint, CancellationToken cancellationToken);

    /// <summary>Forgets a pipeline's checkpoint (e.g. when the pipeline is deleted or seeks).</summary>
    Task DeleteAsync(string pipeline, CancellationToken cancellationToken);
}
