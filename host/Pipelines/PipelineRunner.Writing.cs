using System.Diagnostics;
using System.Threading.Channels;
using PluginHost.Binlog.Replication;
using PluginHost.Config;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;

namespace PluginHost.Pipelines;

/// <summary>The writer: transformed chunks into batches handed to the sink within the in-flight budget; sink versions switched (<see cref="VersionSwitch"/>) at transaction boundaries.</summary>
internal sealed partial class PipelineRunner
{
    /// <summary>
    /// The sink side: <see cref="WriteBatchesAsync"/> hands batches to the sink, <see cref="AcknowledgeLoopAsync"/>
    /// takes them off the in-flight ledger as the sink acknowledges them, in order, and moves the checkpoint. A sink
    /// that gives up on a batch ends the run (it starts over from the checkpoint).
    /// </summary>
    /// <param name="input">The transform stage's chunks.</param>
    /// <param name="queued">The reader's queue before the stage (for the queue depth shown).</param>
    private async Task WriteLoopAsync(ChannelReader<EventChunk> input, ChannelReader<EventChunk>? queued, QueueByteBudget budget, CancellationToken hardStop)
    {
        var ledger = new InFlightLedger(_definition.Options.InFlightEvents, _definition.Options.InFlightBytes);
        _committingSink = _plainSink = null; // offered the checkpoint store again: the sink starts this run from the saved checkpoint
        Volatile.Write(ref _ledger, ledger);
        using var sinkFailed = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        var acknowledger = Task.Run(() => AcknowledgeLoopAsync(ledger, sinkFailed), CancellationToken.None);
        try
        {
            await WriteBatchesAsync(input, queued, budget, ledger, sinkFailed.Token).ConfigureAwait(false);
            ledger.Complete();
            await acknowledger.ConfigureAwait(false); // every batch acknowledged, its checkpoint queued
            // Final flush so nothing accepted stays buffered, and the last checkpoint saved.
            await SinkCallAsync(() => _versions.Sink.FlushAsync(sinkFailed.Token), sinkFailed.Token).ConfigureAwait(false);
            await _saver.WhenSavedAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ledger.Fault is { } fault && !hardStop.IsCancellationRequested)
        {
            throw new SinkFailedException(fault);
        }
        finally
        {
            sinkFailed.Cancel();
            try { await acknowledger.ConfigureAwait(false); } catch (Exception) { } // (its failure is the one thrown above)
        }
    }

    /// <summary>Reads the transform stage's chunks and hands their events to the sink in batches, within the in-flight budget.</summary>
    private async Task WriteBatchesAsync(ChannelReader<EventChunk> input, ChannelReader<EventChunk>? queued, QueueByteBudget budget, InFlightLedger ledger, CancellationToken ct)
    {
        var batchSize = _definition.Options.BatchSize;
        var atBoundary = true; // everything handed to the sink so far ends at a transaction boundary
        EventChunk? partial = null; // a chunk the last batch took only the first rows of (batch_size reached)
        var partialOffset = 0;
        while (true)
        {
            // Wait for events; while idle at a boundary, a pending sink switch happens at once.
            var wake = _versions.Handed;
            if (atBoundary) await _versions.SwitchAsync(ledger, FlushOldSink, ct).ConfigureAwait(false);
            var ready = partial != null ? new ValueTask<bool>(true) : input.WaitToReadAsync(ct);
            if (!ready.IsCompleted)
            {
                var readyTask = ready.AsTask();
                while (!readyTask.IsCompleted)
                {
                    await Task.WhenAny(readyTask, wake).ConfigureAwait(false);
                    wake = _versions.Handed;
                    if (!readyTask.IsCompleted && atBoundary) await _versions.SwitchAsync(ledger, FlushOldSink, ct).ConfigureAwait(false);
                }
                ready = new ValueTask<bool>(readyTask);
            }
            if (!await ready.ConfigureAwait(false)) break;

            // Room first: a full budget waits for the oldest acknowledgement before more is read off the queue.
            await ledger.WaitForRoomAsync(ct).ConfigureAwait(false);
            var batch = new List<ChangeEvent>(Math.Min(batchSize, 8192));
            BinlogPosition? end = null;
            Checkpoints.SnapshotProgress? snapshotAtEnd = null;
            var eventsToEnd = 0;
            var transactions = 0;
            long newestEventTime = 0, bytes = 0;
            IEventLines? lines = null; // snapshot rows as JSON lines (then the batch is empty)
            string linesDatabase = "", linesTable = "";
            long linesTime = 0;
            while (batch.Count < batchSize)
            {
                EventChunk? chunk = partial;
                var first = partialOffset;
                if (chunk is null && !input.TryRead(out chunk)) break;
                partial = null;
                partialOffset = 0;
                if (chunk.Raw is { } raw)
                {
                    // (Raw only when no transform ran on it: the transform stage makes a transformed chunk's rows events.)
                    if (_versions.Sink is IEventLinesSink && raw.CanWriteLines)
                    {
                        // Snapshot rows written as JSON lines straight from their raw values, in a batch of their own.
                        if (batch.Count > 0 || lines != null)
                        {
                            (partial, partialOffset) = (chunk, first);
                            break;
                        }
                        var n = Math.Min(batchSize, raw.Count - first);
                        lines = raw.Lines(first, n);
                        (linesDatabase, linesTable) = (raw.Database, raw.Table);
                        linesTime = raw.Timestamp.ToUnixTimeSeconds();
                        bytes += chunk.Bytes * n / Math.Max(1, raw.Count);
                        if (first + n < raw.Count)
                        {
                            (partial, partialOffset) = (chunk, first + n);
                            atBoundary = false;
                            break;
                        }
                        budget.Give(chunk.Bytes);
                        atBoundary = chunk.TransactionEnd != null;
                        if (chunk.TransactionEnd != null)
                        {
                            end = chunk.TransactionEnd;
                            snapshotAtEnd = chunk.Snapshot;
                            eventsToEnd = n;
                            transactions += chunk.Transactions;
                        }
                        break;
                    }
                    // A sink that takes events: the rows become the events the reader would have made.
                    raw.AddEvents(chunk.Rows);
                    chunk.Raw = null;
                    if (PipelineTrace.Listener is { } traceTaken) PipelineTrace.Stamp(traceTaken, TraceStage.Taken, chunk.Rows); // (benchmarks only)
                }
                var pendingRows = chunk.Rows;
                var i = first;
                for (; i < pendingRows.Count && batch.Count < batchSize; i++) batch.Add(pendingRows[i]); // (transformed by the stage)
                bytes += chunk.Bytes * (i - first) / Math.Max(1, pendingRows.Count); // the share of the chunk's memory taken into this batch
                if (i < pendingRows.Count)
                {
                    // The batch is full inside this chunk: the rest goes in the next batch (no boundary here).
                    partial = chunk;
                    partialOffset = i;
                    atBoundary = false;
                    if (chunk.LastEventTime != 0) newestEventTime = chunk.LastEventTime;
                    break;
                }
                budget.Give(chunk.Bytes); // its rows are events in the batch now (in flight: counted by the ledger)
                atBoundary = chunk.TransactionEnd != null;
                if (chunk.LastEventTime != 0) newestEventTime = chunk.LastEventTime;
                if (chunk.TransactionEnd != null)
                {
                    end = chunk.TransactionEnd;
                    snapshotAtEnd = chunk.Snapshot;
                    eventsToEnd = batch.Count;
                    transactions += chunk.Transactions;
                    if (_versions.SinkWaiting) break; // a new sink waits: cut the batch here so the old sink gets exactly what precedes the boundary
                }
            }
            Status.QueueDepth = (input.CanCount ? input.Count : 0) + (queued is { CanCount: true } ? queued.Count : 0); // what waits while this batch is written (0 once idle)
            if (batch.Count == 0 && end is null && lines is null) continue;
            var acknowledged = Task.CompletedTask;
            long handedAt = 0;
            var trace = PipelineTrace.Listener; // (benchmarks only: per-event stage times)
            if (trace != null) PipelineTrace.Stamp(trace, TraceStage.Transformed, batch);
            var committing = WritesCheckpoints(_versions.Sink);
            if (batch.Count > 0 || committing is not null && end != null)
            {
                var writeStarted = Stopwatch.GetTimestamp();
                if (committing is not null)
                {
                    // Exactly once: the sink commits the checkpoint of the batch's last transaction end with the events before it.
                    handedAt = writeStarted;
                    var at = end is null ? null : new CheckpointState(end.File, end.Position, end.Gtid, DateTimeOffset.UtcNow, _written + eventsToEnd)
                    {
                        LastEventTime = newestEventTime != 0 ? DateTimeOffset.FromUnixTimeSeconds(newestEventTime) : null,
                        Snapshot = snapshotAtEnd?.ToJson(),
                    };
                    acknowledged = await SinkCallAsync(() => committing.SendAsync(batch, at, eventsToEnd, ct), ct).ConfigureAwait(false);
                }
                else if (_versions.Sink is IAcknowledgingSink acking)
                {
                    handedAt = writeStarted;
                    acknowledged = await SinkCallAsync(() => acking.SendAsync(batch, ct), ct).ConfigureAwait(false);
                }
                else await SinkCallAsync(() => _versions.Sink.WriteAsync(batch, ct), ct).ConfigureAwait(false);
                PipelineMetrics.BatchWritten(_definition.Name, batch, writeStarted); // per batch, not per event
                Status.Tables.AddOut(batch);
                if (trace != null) PipelineTrace.Stamp(trace, TraceStage.Written, batch);
            }
            else if (lines != null)
            {
                handedAt = Stopwatch.GetTimestamp();
                var linesSink = (IEventLinesSink)_versions.Sink;
                acknowledged = await SinkCallAsync(() => linesSink.SendLinesAsync(lines, ct), ct).ConfigureAwait(false);
                PipelineMetrics.LinesWritten(_definition.Name, linesDatabase, linesTable, lines.Count, handedAt);
                Status.Tables.AddOut(linesDatabase, linesTable, lines.Count);
            }
            if (end != null)
            {
                if (_versions.Sink is not IAcknowledgingSink)
                {
                    // The plain protocol: everything written so far is delivered when FlushAsync returns.
                    var flushStarted = Stopwatch.GetTimestamp();
                    await SinkCallAsync(() => _versions.Sink.FlushAsync(ct), ct).ConfigureAwait(false);
                    PipelineMetrics.Flushed(_definition.Name, flushStarted);
                    if (trace != null) PipelineTrace.Stamp(trace, TraceStage.Flushed, batch);
                }
                _deadLetter?.Flush(); // the transform's dead letters are durable before the checkpoint passes them
            }
            ledger.Add(new InFlightBatch
            {
                Acknowledged = acknowledged,
                End = end,
                DeliveredAtEnd = _written + eventsToEnd,
                SnapshotAtEnd = snapshotAtEnd,
                Events = batch.Count + (lines?.Count ?? 0),
                Bytes = bytes,
                Transactions = transactions,
                OldestEventTime = batch.Count > 0 ? batch[0].Timestamp.ToUnixTimeSeconds() : lines != null ? linesTime : newestEventTime,
                NewestEventTime = newestEventTime,
                HandedAt = handedAt,
                Traced = trace != null ? batch : null,
            });
            // Part of a long transaction (events after the last end): delivered, checkpointable at its end.
            _written += batch.Count + (lines?.Count ?? 0);
            _gen0Budget.Check(Math.Max(Volatile.Read(ref _handoff)?.Progress is { Completed: false } ? YoungGenerationBudget.SnapshotFloor : 0,
                _versions.Transform is Scripting.JavaScript.JsTransform ? YoungGenerationBudget.JavaScriptFloor : 0));
        }
    }

    private ISink? _committingSink; // the sink that commits this run's checkpoints itself (exactly once), once it joined
    private ISink? _plainSink; // a transactional-capable sink that declined this run (asked once)

    /// <summary>
    /// The sink as an <see cref="ITransactionalSink"/> that commits the checkpoints itself, or null. It is offered the
    /// pipeline's plugin checkpoint store before its first batch of each run (a sink swapped in is offered it too).
    /// </summary>
    private ITransactionalSink? WritesCheckpoints(ISink sink)
    {
        if (sink is not ITransactionalSink t || ReferenceEquals(sink, _plainSink)) return null;
        if (ReferenceEquals(sink, _committingSink)) return t;
        if (Checkpoints.SharedCheckpointBackend.Of(_store) is not { } shared || !shared.Join(t, _definition.Name))
        {
            _plainSink = sink;
            return null;
        }
        _committingSink = sink;
        return t;
    }

    /// <summary>Flushes the sink being replaced (a failure ends the run like any sink call).</summary>
    private static readonly Func<ISink, CancellationToken, Task> FlushOldSink = static (sink, ct) => SinkCallAsync(() => sink.FlushAsync(ct), ct);
}
