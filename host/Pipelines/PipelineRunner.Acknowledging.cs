using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>The acknowledgement loop: batches taken off the ledger in order, checkpoints queued, sink health shown.</summary>
internal sealed partial class PipelineRunner
{
    /// <summary>
    /// Takes batches off the ledger as the sink acknowledges them, oldest first, and queues the checkpoint of each
    /// acknowledged transaction end. While a batch is owed it refreshes the lag (growing with the wait) and the sink's
    /// health every second, so an outage shows while it lasts.
    /// </summary>
    private async Task AcknowledgeLoopAsync(InFlightLedger ledger, CancellationTokenSource sinkFailed)
    {
        var ct = sinkFailed.Token;
        try
        {
            while (await ledger.NextAsync(ct).ConfigureAwait(false) is { } batch)
            {
                while (!batch.Acknowledged.IsCompleted)
                {
                    try
                    {
                        await batch.Acknowledged.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        if (batch.OldestEventTime != 0) Status.LagSeconds = Math.Max(Status.LagSeconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - batch.OldestEventTime);
                        RefreshSinkHealth(ledger);
                    }
                    catch (Exception) when (batch.Acknowledged.IsCompleted) { } // faulted: handled below
                }
                if (!batch.Acknowledged.IsCompletedSuccessfully)
                {
                    var error = batch.Acknowledged.Exception?.InnerException ?? new OperationCanceledException("the sink cancelled an acknowledgement");
                    ledger.Fault = error;
                    throw new SinkFailedException(error);
                }
                ledger.Remove(batch);
                if (batch.Traced != null && PipelineTrace.Listener is { } trace) PipelineTrace.Stamp(trace, TraceStage.Acknowledged, batch.Traced); // (benchmarks only)
                Status.AddOut(batch.Events);
                if (batch.HandedAt != 0) PipelineMetrics.AcknowledgedBatch(_definition.Name, batch.HandedAt);
                if (batch.End is { } end) await Acknowledged(batch, end, ct).ConfigureAwait(false);
                // While degraded or held, every acknowledgement may be the one that ends it: look at once.
                RefreshSinkHealth(ledger, throttled: Status.State != PipelineState.Degraded && Status.HeldBy is null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            ledger.Fault ??= e is SinkFailedException s ? s.InnerException ?? s : e;
            sinkFailed.Cancel(); // the writer stops too; the run starts over from the checkpoint
            throw;
        }
    }

    /// <summary>Every event up to <paramref name="end"/> is acknowledged: its checkpoint is queued for saving.</summary>
    private async ValueTask Acknowledged(InFlightBatch batch, BinlogPosition end, CancellationToken ct)
    {
        var cp = new Checkpoint(end.File, end.Position, end.Gtid, DateTimeOffset.UtcNow, batch.DeliveredAtEnd,
            batch.NewestEventTime != 0 ? DateTimeOffset.FromUnixTimeSeconds(batch.NewestEventTime) : _saver.LastQueued?.LastEventTime, // (status shows it once saved)
            batch.SnapshotAtEnd);
        // Saved in the background (latest position wins) so acknowledgements never wait on the store's fsync; while the
        // store is failing, the pipeline holds here instead of running ahead of its checkpoint. The saved checkpoint
        // never lags more than a batch's worth of events behind the acknowledged ones: with a save already waiting,
        // this waits for the saver only when the events since the last completed save exceed a batch.
        if (_saver.Failing || _saver.Waiting && cp.EventsDelivered - (Status.Checkpoint?.EventsDelivered ?? 0) > _definition.Options.BatchSize)
            await _saver.WhenSavedAsync().WaitAsync(ct).ConfigureAwait(false);
        _saver.Queue(cp, ct);
        Status.AddTransactions(batch.Transactions);
        Status.LagSeconds = batch.NewestEventTime != 0 ? Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - batch.NewestEventTime) : Status.LagSeconds;
        if (_failuresInARow > 0 || Status.State == PipelineState.Retrying && !_saver.Failing)
        {
            _failuresInARow = 0;
            Status.State = PipelineState.Running;
            Status.SetError(null);
            _logger.SinkWorksAgain(_definition.Name);
        }
    }

    private long _lastHealthRefresh;

    /// <summary>
    /// Shows a sink destination that fails (state degraded, its error) and, when the in-flight budget is full, which
    /// destination holds the pipeline. Throttled to once a second on the acknowledgement path.
    /// </summary>
    private void RefreshSinkHealth(InFlightLedger ledger, bool throttled = false)
    {
        var now = Environment.TickCount64;
        if (throttled && now - _lastHealthRefresh < 1000) return;
        _lastHealthRefresh = now;
        Status.InFlightEvents = ledger.Events;
        Status.InFlightBytes = ledger.Bytes;
        var targets = (_versions.Sink as ISinkHealth)?.Targets;
        SinkTargetHealth? failing = null, heaviest = null;
        if (targets != null)
            foreach (var t in targets)
            {
                if (t.Failing && (failing is null || t.Pending > failing.Pending)) failing = t;
                if (t.Pending > 0 && (heaviest is null || t.Pending > heaviest.Pending)) heaviest = t;
            }
        var holder = failing ?? heaviest;
        Status.HeldBy = ledger.Full
            ? $"the in-flight budget is full ({ledger.Events} events, {ledger.Bytes / 1024} KiB of {ledger.MaxEvents} events, {ledger.MaxBytes / 1024} KiB)" +
              (holder is null ? ": waiting for the sink's acknowledgements" : $": waiting on {_definition.SinkType} target '{holder.Name}' ({holder.Pending} pending{(holder.LastError is { } le ? ", " + le : "")})")
            : null;
        if (failing != null)
        {
            if (Status.State is PipelineState.Running or PipelineState.Degraded)
            {
                // The error first: a reader that sees the state degraded sees why (/health read it in between once).
                Status.SetError($"{_definition.SinkType} target '{failing.Name}' failing since {failing.FailingSince:u}: {failing.LastError} ({failing.Pending} event(s) waiting)");
                Status.State = PipelineState.Degraded;
            }
        }
        else if (Status.State == PipelineState.Degraded)
        {
            Status.State = PipelineState.Running;
            Status.SetError(null);
        }
    }
}
