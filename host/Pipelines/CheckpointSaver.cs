using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;

namespace PluginHost.Pipelines;

/// <summary>
/// Saves a pipeline's checkpoints in the background, newest first: a position queued while a save runs replaces any
/// still waiting, so the write path never waits on the store's fsync. A failing store is retried until it works (the
/// pipeline shows as retrying); a hard stop abandons the save — the position is read again next time.
/// </summary>
internal sealed class CheckpointSaver(string pipeline, ICheckpointStore store, PipelineStatus status, ILogger logger, TimeSpan retryDelay)
{
    // Shared between the queuing thread and the save loop, under _gate.
    private readonly object _gate = new();
    private Checkpoint? _toSave;
    private bool _running;
    private Task _loop = Task.CompletedTask;

    // Written by the save loop, read by the queuing thread.
    private volatile bool _failing;

    /// <summary>The newest checkpoint queued (or loaded at start); a boundary that re-announces it is not saved again.</summary>
    public Checkpoint? LastQueued { get; set; }

    /// <summary>True while the store refuses saves.</summary>
    public bool Failing => _failing;

    /// <summary>True while a queued position waits for the save in progress.</summary>
    public bool Waiting
    {
        get { lock (_gate) return _toSave != null; }
    }

    /// <summary>Queues <paramref name="cp"/> unless it is the position already queued.</summary>
    public void Queue(Checkpoint cp, CancellationToken ct)
    {
        if (LastQueued is { } last && cp.EventsDelivered == last.EventsDelivered && cp.File == last.File && cp.Position == last.Position && cp.Gtid == last.Gtid &&
            ReferenceEquals(cp.Snapshot, last.Snapshot))
            return;
        LastQueued = cp;
        lock (_gate)
        {
            _toSave = cp;
            if (_running) return;
            _running = true;
            _loop = Task.Run(() => SaveLoopAsync(ct), CancellationToken.None);
        }
    }

    /// <summary>Completes once every queued checkpoint is saved (or the loop gave up on a hard stop).</summary>
    public Task WhenSavedAsync()
    {
        lock (_gate) return _loop;
    }

    private async Task SaveLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            Checkpoint? cp;
            lock (_gate)
            {
                cp = _toSave;
                _toSave = null;
                if (cp is null)
                {
                    _running = false;
                    return;
                }
            }
            try
            {
                await store.SaveAsync(pipeline, cp, ct).ConfigureAwait(false);
                status.SetCheckpoint(cp);
                if (logger.IsEnabled(LogLevel.Debug))
                    logger.CheckpointSaved(pipeline, cp, cp.EventsDelivered);
                if (_failing)
                {
                    _failing = false;
                    status.State = PipelineState.Running;
                    status.SetError(null);
                    logger.CheckpointSavingWorksAgain(pipeline);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (!_failing) logger.CheckpointSavingFailed(pipeline, e.Message);
                _failing = true;
                status.State = PipelineState.Retrying;
                status.SetError($"saving the checkpoint failed: {e.Message}");
                status.AddRetry();
                lock (_gate) _toSave ??= cp; // keep it (unless a newer one came)
                try { await Task.Delay(retryDelay, ct).ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
            catch (Exception)
            {
                lock (_gate) _running = false;
                return; // stopping hard: the position is read again next time
            }
        }
    }
}
