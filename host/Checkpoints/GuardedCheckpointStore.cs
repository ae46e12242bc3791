namespace PluginHost.Checkpoints;

/// <summary>
/// A store whose writes first ask a guard (cluster mode: whether this node may still write for the pipeline); a
/// refusal throws, so the pipeline holds and nothing moves its checkpoint from a node that lost it.
/// </summary>
internal sealed class GuardedCheckpointStore(ICheckpointStore inner, Func<string, string?> guard) : ICheckpointStore, IAsyncDisposable
{
    /// <summary>The guarded store.</summary>
    public ICheckpointStore Inner => inner;

    /// <summary>Why this node may not write for <paramref name="pipeline"/> now, or null.</summary>
    public string? Refusal(string pipeline) => guard(pipeline);

    public Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken cancellationToken) => inner.LoadAsync(pipeline, cancellationToken);

    public Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        Check(pipeline);
        return inner.SaveAsync(pipeline, checkpoint, cancellationToken);
    }

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken)
    {
        Check(pipeline);
        return inner.DeleteAsync(pipeline, cancellationToken);
    }

    private void Check(string pipeline)
    {
        if (guard(pipeline) is { } refused) throw new CheckpointRefusedException($"checkpoint of '{pipeline}' not written: {refused}");
    }

    public ValueTask DisposeAsync() => inner is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>A checkpoint write refused by the store's guard (this node may not write for the pipeline now).</summary>
internal sealed class CheckpointRefusedException(string message) : IOException(message);
