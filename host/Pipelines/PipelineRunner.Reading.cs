using System.Diagnostics;
using System.Threading.Channels;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Schema;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>The reader: binlog events into chunks of sdk events, handed on at transaction boundaries.</summary>
internal sealed partial class PipelineRunner
{
    /// <summary>
    /// What one row of <paramref name="rows"/> holds while queued as an sdk event: the event object, per row image a
    /// row with its value array and boxed values, and the text of its values (twice the raw bytes, as UTF-16).
    /// </summary>
    internal static long EstimatedRowBytes(RowsEvent rows)
    {
        const int EventBytes = 160, RowBytes = 48 + 24, PerValueBytes = 8 + 24;
        var images = rows.Kind == RowChangeKind.Update ? 2 : 1;
        var raw = rows.Header.EventLength / Math.Max(1, rows.Rows.Count);
        return EventBytes + 2L * raw + images * (RowBytes + PerValueBytes * rows.Table.Columns.Count);
    }


    /// <summary>
    /// Reads the binlog into chunks. Invariant: a chunk with a <see cref="EventChunk.TransactionEnd"/> holds only events
    /// of transactions that end at or before it (events after a boundary start a new chunk), so the writer can switch
    /// versions and checkpoint exactly there. On a graceful stop the transaction being read is finished first.
    /// </summary>
    private async Task ReadLoopAsync(BinlogClient client, BinlogPosition? resume, ChannelWriter<EventChunk> output,
        QueueByteBudget budget, SnapshotHandoff handoff, CancellationToken stopRequested, CancellationTokenSource readStop)
    {
        // A chunk is handed on at 1024 rows or a quarter of the queue's byte budget, whichever comes first.
        var chunkBytes = Math.Max(1, budget.Limit / 4);
        var ct = readStop.Token;
        var filter = _definition.Filter;
        // Rows become sdk events here, on the reader's thread, so the writer's thread only transforms and writes.
        var factory = new ChangeEventFactory();
        var chunk = new EventChunk(ChunkSize);
        var committed = client.Committed;
        string? transactionId = null;
        var index = 0;
        var lastPush = Stopwatch.GetTimestamp();
        var reconnects = 0;
        var gate = new object();
        var midTransaction = false; // events of the transaction being read were handed on (guarded by gate)
        string? readFile = null; // where the last event read ends (snapshot chunks go in once it is past theirs)
        long readEnd = 0;

        // Stop at once when between transactions; otherwise after the transaction being read ends.
        using var onStop = stopRequested.Register(() =>
        {
            lock (gate)
                if (!midTransaction) readStop.Cancel();
        });

        async ValueTask Push()
        {
            if (chunk.TransactionEnd != null) chunk.Snapshot = handoff.Progress; // every checkpoint carries the snapshot's progress
            await budget.TakeAsync(chunk.Bytes, ct).ConfigureAwait(false);
            if (PipelineTrace.Listener is { } traceQueued) PipelineTrace.Stamp(traceQueued, TraceStage.Queued, chunk.Rows); // (benchmarks only)
            await output.WriteAsync(chunk, ct).ConfigureAwait(false);
            chunk = new EventChunk(ChunkSize);
            lastPush = Stopwatch.GetTimestamp();
        }

        // False when a stop was requested before the transaction handed on anything: then stop here.
        bool BeginRows()
        {
            lock (gate)
            {
                if (midTransaction) return true;
                if (readStop.IsCancellationRequested || stopRequested.IsCancellationRequested) return false;
                midTransaction = true;
                return true;
            }
        }

        async ValueTask<bool> AddRows(RowsEvent rows, long position)
        {
            var op = rows.Kind switch { RowChangeKind.Insert => ChangeOperation.Insert, RowChangeKind.Update => ChangeOperation.Update, _ => ChangeOperation.Delete };
            if (!filter.IncludesTable(rows.Table.Database, rows.Table.Table) || !filter.IncludesOperation(op))
            {
                Status.AddFiltered(rows.Rows.Count);
                index += rows.Rows.Count;
                return true;
            }
            if (!handoff.StreamRows)
            {
                // initial_only: only the snapshot's rows are delivered (and none of its chunk rows is dropped for a newer
                // image the stream would have given: each row comes as its chunk read it).
                Status.AddFiltered(rows.Rows.Count);
                index += rows.Rows.Count;
                return true;
            }
            var watching = handoff.Watching;
            if (watching && client.CurrentFile is { } at && handoff.Suppressed(rows.Table.Database, rows.Table.Table, at, rows.Header.NextPosition))
            {
                Status.AddFiltered(rows.Rows.Count); // a whole-table snapshot pass already holds these changes
                index += rows.Rows.Count;
                return true;
            }
            if (!BeginRows()) return false;
            // Keep the invariant: what follows a transaction end goes into a chunk of its own.
            if (chunk.TransactionEnd != null) await Push().ConfigureAwait(false);
            transactionId ??= client.CurrentGtid ?? $"{client.CurrentFile}:{position}";
            // Rows stay in their compact decoded form in the queue; they become sdk events on the sink side.
            var rowBytes = EstimatedRowBytes(rows);
            var table = factory.TableInfoOf(rows.Table);
            string? gtid = client.CurrentGtid, file = client.CurrentFile;
            var traceRead = PipelineTrace.Listener; // (benchmarks only)
            var readAt = traceRead != null ? Stopwatch.GetTimestamp() : 0;
            for (var i = 0; i < rows.Rows.Count; i++)
            {
                if (chunk.Rows.Count > 0 && chunk.Bytes + rowBytes > chunkBytes) await Push().ConfigureAwait(false); // big rows: smaller chunks
                var e = factory.Create(rows, rows.Rows[i], table);
                if (watching) handoff.Observe(e, file!, rows.Header.NextPosition);
                e.Gtid = gtid;
                e.File = file;
                e.Position = position;
                e.TransactionId = transactionId;
                e.IndexInTransaction = index++;
                chunk.Rows.Add(e);
                chunk.Bytes += rowBytes;
                traceRead?.Invoke(TraceStage.Read, e, readAt);
            }
            Status.AddIn(rows.Rows.Count);
            Status.Tables.AddIn(rows.Table.Database, rows.Table.Table, rows.Rows.Count);
            chunk.LastEventTime = rows.Header.Timestamp;
            return true;
        }

        // A snapshot chunk (or whole-table pass) goes in between transactions once the reader has read up to its position.
        async ValueTask InjectDueAsync()
        {
            if (client.Committed is not { } boundary || readFile is null) return;
            lock (gate)
            {
                if (midTransaction || readStop.IsCancellationRequested || stopRequested.IsCancellationRequested) return;
                // A chunk goes in whole, like a transaction: a graceful stop waits for its end (and its checkpoint)
                // instead of cutting it after a first push, which would deliver rows a restart reads again.
                midTransaction = true;
            }
            SnapshotDelivery? delivery;
            try
            {
                if (handoff.Forgotten && boundary.File.Length > 0)
                {
                    // A cancelled snapshot: a checkpoint without it now, not at the next transaction (an idle stream may bring none before a restart).
                    handoff.ForgetRecorded();
                    chunk.TransactionEnd ??= boundary;
                    await Push().ConfigureAwait(false);
                }
                delivery = handoff.TakeDue(readFile, readEnd);
            }
            catch (Exception)
            {
                EndInjection();
                throw;
            }
            if (delivery is null)
            {
                EndInjection();
                return;
            }
            try
            {
                if (chunk.Rows.Count > 0 || chunk.TransactionEnd != null) await Push().ConfigureAwait(false); // snapshot rows in chunks of their own
                var table = delivery.Table;
                var id = $"snapshot:{table.Database}.{table.Table}:{(_snapshotChunks++).ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                var n = 0L;
                async ValueTask Add(ChangeEvent e)
                {
                    var bytes = delivery.BytesPerRow > 0 ? delivery.BytesPerRow : SnapshotRowSize.Of(e); // (a chunk was measured once, as it was read)
                    if (chunk.Rows.Count >= ChunkSize || chunk.Rows.Count > 0 && chunk.Bytes + bytes > chunkBytes) await Push().ConfigureAwait(false);
                    e.File = boundary.File;
                    e.Position = boundary.Position;
                    e.TransactionId = id;
                    e.IndexInTransaction = (int)Math.Min(int.MaxValue, n++);
                    chunk.Rows.Add(e);
                    chunk.Bytes += bytes;
                }
                bool done;
                string? lastKey = null;
                if (delivery.Pass is { } pass)
                {
                    var result = await pass(Add, ct).ConfigureAwait(false);
                    if (result.Exact) handoff.SuppressUpTo(table, result.Position);
                    done = true;
                }
                else if (delivery.Chunk!.Raw is { } raw)
                {
                    // Rows held raw go on raw, in slices of at most a queue chunk each; the writer makes them events or JSON.
                    var delivered = delivery.RawRowsToDeliver();
                    var total = delivered?.Count ?? raw.Count;
                    var perRow = delivery.BytesPerRow > 0 ? delivery.BytesPerRow : 1;
                    var perSlice = (int)Math.Clamp(chunkBytes / perRow, 1, ChunkSize);
                    for (var start = 0; start < total; start += perSlice)
                    {
                        if (start > 0) await Push().ConfigureAwait(false);
                        var count = Math.Min(perSlice, total - start);
                        chunk.Raw = new SnapshotSlice(raw, delivered, start, count, boundary.File, boundary.Position, id);
                        chunk.Bytes += count * perRow;
                    }
                    n = total;
                    done = delivery.Chunk.Exhausted;
                    lastKey = delivery.Chunk.LastKey;
                }
                else
                {
                    foreach (var e in delivery.RowsToDeliver()) await Add(e).ConfigureAwait(false);
                    done = delivery.Chunk!.Exhausted;
                    lastKey = delivery.Chunk.LastKey;
                }
                handoff.Delivered(delivery, n, done, lastKey, completedKeepsRecord: _definition.Snapshot.Mode == Config.SnapshotMode.InitialOnly);
                Status.AddIn(n);
                Status.Tables.AddIn(table.Database, table.Table, n);
                chunk.TransactionEnd = boundary; // checkpointable here: the stream resumes at the boundary, the snapshot after this chunk
                await Push().ConfigureAwait(false);
                delivery.Done();
            }
            catch (Exception e)
            {
                delivery.Fail(e);
                throw;
            }
            finally
            {
                EndInjection();
            }
        }

        // After a chunk went in: a stop asked for meanwhile takes effect now (the stop's callback left it to us).
        void EndInjection()
        {
            lock (gate)
            {
                midTransaction = false;
                if (stopRequested.IsCancellationRequested) readStop.Cancel();
            }
        }

        try
        {
            await using var events = client.ReadAsync(resume, ct).GetAsyncEnumerator(ct);
            while (true)
            {
                var next = events.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    // Idle (or waiting for the rest of a transaction): a snapshot chunk due now goes in without waiting for the next event.
                    var waiting = next.AsTask();
                    while (!waiting.IsCompleted)
                    {
                        // The signal is taken before looking for a chunk: one handed over after the look completes it. (Taken
                        // after, a chunk handed over between the look and the wait slept until the next binlog event, a
                        // heartbeat away on an idle server.)
                        // A chunk not due yet waits for the signal too: no spinning.
                        var signal = handoff.Signal;
                        if (handoff.HasPending || handoff.Forgotten) await InjectDueAsync().ConfigureAwait(false);
                        if (!waiting.IsCompleted) await Task.WhenAny(waiting, signal).ConfigureAwait(false);
                    }
                    next = new ValueTask<bool>(waiting);
                }
                if (!await next.ConfigureAwait(false)) break;
                var ev = events.Current;
                _origin ??= client.Committed; // where this pipeline began, for starting over before any checkpoint
                if (client.Reconnects != reconnects)
                {
                    reconnects = client.Reconnects;
                    Status.Reconnects = reconnects;
                }
                if (!_reading) _reading = true;
                if (Status.State is PipelineState.Starting or PipelineState.Reconnecting && InitialTransform is not { IsCompletedSuccessfully: false })
                    Status.State = PipelineState.Running; // (not before the first transform compiled: until then it is not running)
                var keepGoing = true;
                switch (ev)
                {
                    case RowsEvent rows:
                        keepGoing = await AddRows(rows, rows.Header.Position).ConfigureAwait(false);
                        break;
                    case TransactionPayloadEvent payload:
                        foreach (var inner in payload.Events)
                            if (inner is RowsEvent r && !(keepGoing = await AddRows(r, payload.Header.Position).ConfigureAwait(false)))
                                break;
                        break;
                    case HeartbeatEvent:
                        if (chunk.Rows.Count == 0 && chunk.TransactionEnd is null) Status.LagSeconds = 0;
                        break;
                }
                if (!keepGoing) break;

                // The resume point moves only between transactions (a transaction end, a rotate, the GTID list at a file start).
                if (!ReferenceEquals(client.Committed, committed))
                {
                    committed = client.Committed;
                    transactionId = null;
                    index = 0;
                    if (ev is XidEvent or QueryEvent or TransactionPayloadEvent) chunk.Transactions++;
                    if (committed is not null && committed.File.Length > 0) chunk.TransactionEnd = committed;
                    lock (gate) midTransaction = false;
                }
                // How far the reader has read (for placing snapshot chunks): a rotate moves it to the next file's start.
                if (ev is RotateEvent rotate) (readFile, readEnd) = (rotate.NextFile, (long)rotate.NextFilePosition);
                else if (ev.Header.NextPosition != 0 && client.CurrentFile is { } current) (readFile, readEnd) = (current, ev.Header.NextPosition);
                if (handoff.Watching && readFile != null) handoff.Passed(readFile, readEnd);
                if (handoff.HasPending || handoff.Forgotten) await InjectDueAsync().ConfigureAwait(false);
                var stopNow = false;
                if (stopRequested.IsCancellationRequested)
                    lock (gate) stopNow = !midTransaction;
                // Hand over full chunks, and transaction ends promptly; coalesce transactions with no wanted rows.
                var due = chunk.Rows.Count >= ChunkSize || chunk.Bytes >= chunkBytes ||
                          chunk.TransactionEnd != null && (stopNow || chunk.Rows.Count > 0 || Stopwatch.GetElapsedTime(lastPush).TotalMilliseconds >= 200) ||
                          ev is HeartbeatEvent && chunk.TransactionEnd != null;
                if (due) await Push().ConfigureAwait(false);
                if (stopNow) return;
            }
        }
        catch (Exception) when (readStop.IsCancellationRequested)
        {
            // Stopped (gracefully between transactions, by the writer, or hard); what was read but not handed on is read again next time.
        }
        // A last transaction end not yet handed on (transactions without wanted rows) still moves the checkpoint.
        if (chunk.TransactionEnd != null)
        {
            chunk.Snapshot = handoff.Progress;
            chunk.Bytes = 0; // handed on without taking room in the budget (nothing to give back for it)
            if (ct.IsCancellationRequested) output.TryWrite(chunk);
            else
                try { await output.WriteAsync(chunk, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
        }
    }
}
