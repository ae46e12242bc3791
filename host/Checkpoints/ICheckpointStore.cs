namespace PluginHost.Checkpoints;

/// <summary>Keeps pipeline checkpoints. A failed save must throw: the pipeline then holds rather than pretend.</summary>
internal interface ICheckpointStore
{
    /// <summary>The saved checkpoint of a pipeline, or null when it has none.</summary>
    Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>Durably saves a pipeline's checkpoint (replacing the previous one).</summary>
    Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>Forgets a pipeline's checkpoint (e.g. on seek or delete).</summary>
    Task DeleteAsync(string pipeline, CancellationToken cancellationToken);
}
