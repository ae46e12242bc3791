using Microsoft.Extensions.Logging;

namespace PluginHost.Checkpoints;

/// <summary>
/// A pipeline's checkpoint store that also notes saved checkpoints in its <see cref="CheckpointHistory"/>: the first
/// save, then at most one every <c>checkpoint.history_interval</c>. The checkpoint is the truth: a history that cannot
/// be written is logged (once until it works again), never a failed save.
/// </summary>
internal sealed class HistoryRecordingStore(ICheckpointStore inner, CheckpointHistory history, TimeSpan interval, ILogger logger) : ICheckpointStore
{
    private DateTimeOffset? _lastRecorded;
    private bool _failing;

    public ICheckpointStore Inner => inner;

    public Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken cancellationToken) => inner.LoadAsync(pipeline, cancellationToken);

    public async Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        await inner.SaveAsync(pipeline, checkpoint, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        if (_lastRecorded is { } last && now - last < interval) return;
        try
        {
            if (await history.RecordAsync(pipeline, checkpoint, CheckpointHistory.Saved, null, cancellationToken).ConfigureAwait(false) != null)
                _lastRecorded = now;
            _failing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            if (!_failing) logger.CheckpointHistoryWriteFailed(pipeline, e.Message);
            _failing = true;
        }
    }

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken) => inner.DeleteAsync(pipeline, cancellationToken);
}
