using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Schema;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Runs one pipeline: binlog reader → filter → events → (bounded queue) → transform → sink → flush → checkpoint.
/// The checkpoint only ever moves to the end of a transaction whose every event the sink acknowledged, so a crash
/// at any moment loses nothing and repeats at most the transactions after the last checkpoint. Transform and sink
/// versions are switched only between transactions.
/// </summary>
/// <remarks>
/// A sink that throws (from WriteAsync or FlushAsync) makes the runner start over from the last checkpoint — the
/// binlog is read again from there and every event since is handed to the sink again — after a backoff, for as long
/// as it takes (state <see cref="PipelineState.Retrying"/>); nothing is ever skipped. A graceful stop finishes the
/// transaction being read, delivers and checkpoints it, so a restart repeats nothing.
/// </remarks>
public sealed class PipelineRunner
{
    private const int ChunkSize = 1024;

    // Fixed at construction.
    private readonly PipelineDefinition _definition;
    private readonly ICheckpointStore _store;
    private readonly ILogger _logger;
    private readonly DeadLetterFile? _deadLetter;

    // Handed over by other threads (API, watchers), taken by the writer at a transaction boundary.
    private PendingSinkSwap? _pendingSink;
    private StrongBox<IEventTransform?>? _pendingTransform;
    private TaskCompletionSource _wake = NewSignal();

    // The writer's (and, between runs, RunAsync's).
    private ISink _sink;
    private IEventTransform? _transform;
    private long _written;
    private bool _initialTransformApplied;
    private ChangeEvent? _deadLetterCopy; // the event as read, kept by Transform for a dead letter

    // The acknowledgement loop's (read by RunAsync between runs).
    private CheckpointSaver _saver = null!; // made in RunAsync (it needs RetryDelay)
    private int _failuresInARow;
    private InFlightLedger? _ledger; // the current run's, for the status and the stop message

    // The reader's, read by others.
    private BinlogPosition? _origin;
    private volatile bool _reading; // connected and has read an event (for Starting → Running once the first transform is ready)
    private BinlogClient? _client; // the current (or last) connection, for BinlogBytesRead
    private long _bytesOfEarlierClients;

    public PipelineRunner(PipelineDefinition definition, ISink sink, ICheckpointStore store, ILogger logger,
        PipelineStatus status, IEventTransform? transform = null, DeadLetterFile? deadLetter = null)
    {
        _definition = definition;
        _sink = sink;
        _store = store;
        _logger = logger;
        Status = status;
        _transform = transform;
        _deadLetter = deadLetter;
        DrainTimeout = definition.Options.DrainTimeout;
        Status.TransformVersion = transform?.Version;
    }

    public PipelineStatus Status { get; }

    /// <summary>
    /// The first transform, when it is still compiling as the runner starts: the writer waits for it before the first
    /// event, while the checkpoint is loaded and the binlog read (instead of after). Null: the constructor's transform.
    /// </summary>
    public Task<IEventTransform?>? InitialTransform { get; init; }

    /// <summary>How long a graceful stop waits for in-flight events to be acknowledged (the pipeline's <c>drain_timeout</c>).</summary>
    public TimeSpan DrainTimeout { get; init; }

    /// <summary>First delay before starting over after a sink or checkpoint-store failure; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Source options beyond the definition (tests shorten heartbeats and backoff).</summary>
    public Func<BinlogClientOptions, BinlogClientOptions>? ConfigureClient { get; init; }

    /// <summary>The sink in use.</summary>
    public ISink Sink => _sink;

    /// <summary>Bytes of binlog received from the server since this runner started, over every connection (metrics).</summary>
    public long BinlogBytesRead => Interlocked.Read(ref _bytesOfEarlierClients) + (Volatile.Read(ref _client)?.BytesReceived ?? 0);

    /// <summary>Where this runner began reading (its resolved start), null until connected. Lets the API pin a pipeline
    /// that is stopped before its first checkpoint to where it was, instead of its configured start.</summary>
    public BinlogPosition? Origin => Volatile.Read(ref _origin);

    /// <summary>
    /// Switches to a new sink at the next transaction boundary — at once when the pipeline is idle between
    /// transactions. The old sink has flushed everything it was given before it is disposed; every event goes to
    /// exactly one of them. The task completes when the new sink is live (cancelled if a newer swap replaces this one
    /// or the pipeline stops first; a replaced sink is disposed).
    /// </summary>
    public async Task SwapSinkAsync(ISink next)
    {
        var swap = new PendingSinkSwap(next);
        if (Interlocked.Exchange(ref _pendingSink, swap) is { } superseded)
        {
            await superseded.Sink.DisposeAsync().ConfigureAwait(false);
            superseded.Done.TrySetCanceled();
        }
        Wake();
        await swap.Done.Task.ConfigureAwait(false);
    }

    /// <summary>Switches to a new transform version at the next transaction boundary.</summary>
    public void SwapTransform(IEventTransform? next)
    {
        Volatile.Write(ref _pendingTransform, new StrongBox<IEventTransform?>(next));
        Wake();
    }

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled (then drains and checkpoints) or a fatal error.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var name = _definition.Name;
        if (!Status.AwaitingTransformFix) Status.State = PipelineState.Starting; // (a first compile that already failed stays shown)
        Status.SinkType = _definition.SinkType;
        _saver = new CheckpointSaver(name, _store, Status, _logger, RetryDelay);
        Status.SinkTargets = () => (Volatile.Read(ref _sink) as ISinkHealth)?.Targets;
        Checkpoint? checkpoint;
        try
        {
            checkpoint = await _store.LoadAsync(name, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Fail(e);
            throw;
        }
        catch (OperationCanceledException)
        {
            Status.State = PipelineState.Stopped;
            return;
        }
        if (checkpoint != null)
        {
            Status.SetCheckpoint(checkpoint);
            _written = checkpoint.EventsDelivered;
            _saver.LastQueued = checkpoint;
            _logger.LogInformation("pipeline {Pipeline}: resuming from checkpoint {Checkpoint}", name, checkpoint);
        }
        else _logger.LogInformation("pipeline {Pipeline}: no checkpoint, starting at {Start}", name, _definition.Start);

        try
        {
            var delay = RetryDelay;
            while (true)
            {
                await _saver.WhenSavedAsync().ConfigureAwait(false);
                var resume = Status.Checkpoint is { } cp ? new BinlogPosition(cp.File, cp.Position, cp.Gtid) : _origin;
                _written = Status.Checkpoint?.EventsDelivered ?? 0;
                var sinkError = await RunOnceAsync(resume, stoppingToken).ConfigureAwait(false);
                if (sinkError is null || stoppingToken.IsCancellationRequested) break;
                if (_failuresInARow == 0) delay = RetryDelay;
                _failuresInARow++;
                Status.State = PipelineState.Retrying;
                Status.SetError($"sink failed: {sinkError.Message}");
                Status.AddRetry();
                if (_failuresInARow == 1 || _failuresInARow % 10 == 0)
                    _logger.LogWarning("pipeline {Pipeline}: the sink failed (attempt {Attempt}); starting over from checkpoint {Checkpoint} in {Delay}: {Error}",
                        name, _failuresInARow, (object?)Status.Checkpoint ?? _origin, delay, sinkError.Message);
                try
                {
                    await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
        finally
        {
            Status.SinkTargets = null; // (it would pin the sink's plugin after the pipeline stopped)
            Status.InFlightEvents = 0;
            Status.InFlightBytes = 0;
            Status.HeldBy = null;
            if (Interlocked.Exchange(ref _pendingSink, null) is { } pending)
            {
                await pending.Sink.DisposeAsync().ConfigureAwait(false);
                pending.Done.TrySetCanceled();
            }
        }
        if (Status.State != PipelineState.Failed) Status.State = PipelineState.Stopped;
        _logger.LogInformation("pipeline {Pipeline}: stopped at {Checkpoint}", name, Status.Checkpoint);
    }

    /// <summary>One run of reader and writer from <paramref name="resume"/>; returns the sink's exception when the sink failed (to start over), null when stopped.</summary>
    private async Task<Exception?> RunOnceAsync(BinlogPosition? resume, CancellationToken stoppingToken)
    {
        var name = _definition.Name;
        var clientOptions = new BinlogClientOptions
        {
            Connection = _definition.Connection,
            ServerId = _definition.Options.Source.ServerId,
            Start = _definition.Start,
            HeartbeatInterval = _definition.Options.Source.Heartbeat,
            RetryInitialConnect = true, // a database that is down or restarting is waited for, not a reason to fail
            OnConnectionLost = e =>
            {
                _reading = false;
                if (Status.AwaitingTransformFix) return; // still failed on its script: that stays the state and the error shown
                Status.State = PipelineState.Reconnecting;
                Status.SetError($"source: {e.Message}");
            },
            Log = m => _logger.LogInformation("pipeline {Pipeline}: {Message}", name, m),
        };
        if (ConfigureClient != null) clientOptions = ConfigureClient(clientOptions);
        await using var client = new BinlogClient(clientOptions);
        if (Interlocked.Exchange(ref _client, client) is { } previous) Interlocked.Add(ref _bytesOfEarlierClients, previous.BytesReceived);

        var channel = Channel.CreateBounded<EventChunk>(new BoundedChannelOptions(_definition.Options.QueueChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var budget = new QueueByteBudget(_definition.Options.QueueBytes, used => Status.QueuedBytes = used);
        using var hardStop = new CancellationTokenSource();
        using var readStop = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        Exception? readerError = null;
        var reader = Task.Run(async () =>
        {
            try
            {
                await ReadLoopAsync(client, resume, channel.Writer, budget, stoppingToken, readStop).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                readerError = e;
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);
        var writer = Task.Run(async () =>
        {
            try
            {
                await WriteLoopAsync(channel.Reader, budget, hardStop.Token).ConfigureAwait(false);
            }
            finally
            {
                readStop.Cancel(); // a failed writer must not leave the reader blocked on a full queue
            }
        }, CancellationToken.None);

        // On a graceful stop the reader finishes its transaction and the writer drains what was read; give it a deadline.
        using var drainTimer = stoppingToken.Register(() => hardStop.CancelAfter(DrainTimeout));
        try
        {
            await Task.WhenAll(reader, writer).ConfigureAwait(false);
        }
        catch (SinkFailedException e)
        {
            return e.InnerException ?? e;
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            var left = Volatile.Read(ref _ledger);
            _logger.LogWarning("pipeline {Pipeline}: stopped after drain_timeout ({Drain}) with {Events} event(s) not yet acknowledged by the sink; " +
                               "the next start sends them again from checkpoint {Checkpoint}",
                name, DrainTimeout, left?.Events ?? 0, (object?)Status.Checkpoint ?? resume);
            return null;
        }
        catch (Exception e)
        {
            hardStop.Cancel();
            Fail(e);
            throw;
        }
        if (readerError != null)
        {
            Fail(readerError);
            throw readerError;
        }
        return null;
    }

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

    private void Fail(Exception e)
    {
        Status.State = PipelineState.Failed;
        Status.SetError(e.Message);
        _logger.LogError("pipeline {Pipeline}: failed: {Error}", _definition.Name, e.Message);
    }

    /// <summary>
    /// Reads the binlog into chunks. Invariant: a chunk with a <see cref="EventChunk.TransactionEnd"/> holds only events
    /// of transactions that end at or before it (events after a boundary start a new chunk), so the writer can switch
    /// versions and checkpoint exactly there. On a graceful stop the transaction being read is finished first.
    /// </summary>
    private async Task ReadLoopAsync(BinlogClient client, BinlogPosition? resume, ChannelWriter<EventChunk> output,
        QueueByteBudget budget, CancellationToken stopRequested, CancellationTokenSource readStop)
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

        // Stop at once when between transactions; otherwise after the transaction being read ends.
        using var onStop = stopRequested.Register(() =>
        {
            lock (gate)
                if (!midTransaction) readStop.Cancel();
        });

        async ValueTask Push()
        {
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
            chunk.LastEventTime = rows.Header.Timestamp;
            return true;
        }

        try
        {
            await foreach (var ev in client.ReadAsync(resume, ct).ConfigureAwait(false))
            {
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
            chunk.Bytes = 0; // handed on without taking room in the budget (nothing to give back for it)
            if (ct.IsCancellationRequested) output.TryWrite(chunk);
            else
                try { await output.WriteAsync(chunk, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
        }
    }

    /// <summary>
    /// The sink side: <see cref="WriteBatchesAsync"/> hands batches to the sink, <see cref="AcknowledgeLoopAsync"/>
    /// takes them off the in-flight ledger as the sink acknowledges them, in order, and moves the checkpoint. A sink
    /// that gives up on a batch ends the run (it starts over from the checkpoint).
    /// </summary>
    private async Task WriteLoopAsync(ChannelReader<EventChunk> input, QueueByteBudget budget, CancellationToken hardStop)
    {
        var ledger = new InFlightLedger(_definition.Options.InFlightEvents, _definition.Options.InFlightBytes);
        Volatile.Write(ref _ledger, ledger);
        using var sinkFailed = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        var acknowledger = Task.Run(() => AcknowledgeLoopAsync(ledger, sinkFailed), CancellationToken.None);
        try
        {
            await WriteBatchesAsync(input, budget, ledger, sinkFailed.Token).ConfigureAwait(false);
            ledger.Complete();
            await acknowledger.ConfigureAwait(false); // every batch acknowledged, its checkpoint queued
            // Final flush so nothing accepted stays buffered, and the last checkpoint saved.
            await SinkCallAsync(() => _sink.FlushAsync(sinkFailed.Token), sinkFailed.Token).ConfigureAwait(false);
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

    /// <summary>Reads chunks, transforms their events and hands them to the sink in batches, within the in-flight budget.</summary>
    private async Task WriteBatchesAsync(ChannelReader<EventChunk> input, QueueByteBudget budget, InFlightLedger ledger, CancellationToken ct)
    {
        var batchSize = _definition.Options.BatchSize;
        var transformed = new List<ChangeEvent>(4);
        var atBoundary = true; // everything handed to the sink so far ends at a transaction boundary
        EventChunk? partial = null; // a chunk the last batch took only the first rows of (batch_size reached)
        var partialOffset = 0;
        if (InitialTransform is { } initial && !_initialTransformApplied)
        {
            // The transform compiled while the checkpoint was loaded and the reader connected; no event passes without it.
            try
            {
                _transform = await initial.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // stopped before the transform was ready: nothing was handed to the sink
            }
            _initialTransformApplied = true;
            Status.TransformVersion = _transform?.Version;
            // The reader connected while the script compiled: running now, not at the next event or heartbeat.
            if (_reading && Status.State == PipelineState.Starting) Status.State = PipelineState.Running;
        }
        while (true)
        {
            // Wait for events; while idle at a boundary, pending version switches happen at once.
            var wake = Volatile.Read(ref _wake).Task;
            if (atBoundary) await SwitchVersionsAsync(ledger, ct).ConfigureAwait(false);
            var ready = partial != null ? new ValueTask<bool>(true) : input.WaitToReadAsync(ct);
            if (!ready.IsCompleted)
            {
                var readyTask = ready.AsTask();
                while (!readyTask.IsCompleted)
                {
                    await Task.WhenAny(readyTask, wake).ConfigureAwait(false);
                    wake = Volatile.Read(ref _wake).Task;
                    if (!readyTask.IsCompleted && atBoundary) await SwitchVersionsAsync(ledger, ct).ConfigureAwait(false);
                }
                ready = new ValueTask<bool>(readyTask);
            }
            if (!await ready.ConfigureAwait(false)) break;

            // Room first: a full budget waits for the oldest acknowledgement before more is read off the queue.
            await ledger.WaitForRoomAsync(ct).ConfigureAwait(false);
            var batch = new List<ChangeEvent>(Math.Min(batchSize, 8192));
            BinlogPosition? end = null;
            var eventsToEnd = 0;
            var transactions = 0;
            long newestEventTime = 0, bytes = 0;
            while (batch.Count < batchSize)
            {
                EventChunk? chunk = partial;
                var first = partialOffset;
                if (chunk is null && !input.TryRead(out chunk)) break;
                partial = null;
                partialOffset = 0;
                var pendingRows = chunk.Rows;
                if (PipelineTrace.Listener is { } traceTaken) PipelineTrace.Stamp(traceTaken, TraceStage.Taken, pendingRows, first); // (benchmarks only)
                var i = first;
                for (; i < pendingRows.Count && batch.Count < batchSize; i++)
                {
                    var e = pendingRows[i];
                    if (_transform is null)
                    {
                        batch.Add(e);
                        continue;
                    }
                    transformed.Clear();
                    if (Transform(e, transformed)) batch.AddRange(transformed);
                }
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
                    eventsToEnd = batch.Count;
                    transactions += chunk.Transactions;
                    SwitchTransform();
                    if (Volatile.Read(ref _pendingSink) != null) break; // cut the batch here so the old sink gets exactly what precedes the boundary
                }
            }
            Status.QueueDepth = input.CanCount ? input.Count : 0; // what waits while this batch is written (0 once idle)
            if (batch.Count == 0 && end is null) continue;
            var acknowledged = Task.CompletedTask;
            var trace = PipelineTrace.Listener; // (benchmarks only: per-event stage times)
            if (trace != null) PipelineTrace.Stamp(trace, TraceStage.Transformed, batch);
            if (batch.Count > 0)
            {
                var writeStarted = Stopwatch.GetTimestamp();
                if (_sink is IAcknowledgingSink acking)
                {
                    acknowledged = await SinkCallAsync(() => acking.SendAsync(batch, ct), ct).ConfigureAwait(false);
                }
                else await SinkCallAsync(() => _sink.WriteAsync(batch, ct), ct).ConfigureAwait(false);
                PipelineMetrics.BatchWritten(_definition.Name, batch, writeStarted); // per batch, not per event
                if (trace != null) PipelineTrace.Stamp(trace, TraceStage.Written, batch);
            }
            if (end != null)
            {
                if (_sink is not IAcknowledgingSink)
                {
                    // The plain protocol: everything written so far is delivered when FlushAsync returns.
                    var flushStarted = Stopwatch.GetTimestamp();
                    await SinkCallAsync(() => _sink.FlushAsync(ct), ct).ConfigureAwait(false);
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
                Events = batch.Count,
                Bytes = bytes,
                Transactions = transactions,
                OldestEventTime = batch.Count > 0 ? batch[0].Timestamp.ToUnixTimeSeconds() : newestEventTime,
                NewestEventTime = newestEventTime,
                Traced = trace != null ? batch : null,
            });
            // Part of a long transaction (events after the last end): delivered, checkpointable at its end.
            _written += batch.Count;
            YoungGenerationBudget.Check();
        }
    }

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
            batch.NewestEventTime != 0 ? DateTimeOffset.FromUnixTimeSeconds(batch.NewestEventTime) : _saver.LastQueued?.LastEventTime); // (status shows it once saved)
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
            _logger.LogInformation("pipeline {Pipeline}: the sink works again", _definition.Name);
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
        var targets = (_sink as ISinkHealth)?.Targets;
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
                Status.State = PipelineState.Degraded;
                Status.SetError($"{_definition.SinkType} target '{failing.Name}' failing since {failing.FailingSince:u}: {failing.LastError} ({failing.Pending} event(s) waiting)");
            }
        }
        else if (Status.State == PipelineState.Degraded)
        {
            Status.State = PipelineState.Running;
            Status.SetError(null);
        }
    }

    private void SwitchTransform()
    {
        if (Interlocked.Exchange(ref _pendingTransform, null) is not { } t) return;
        _transform = t.Value;
        Status.TransformVersion = t.Value?.Version;
        _logger.LogInformation("pipeline {Pipeline}: transform version {Version} live from the next transaction", _definition.Name, t.Value?.Version ?? "(none)");
    }

    /// <summary>
    /// At a transaction boundary: applies a pending transform and sink. The old sink has acknowledged and flushed
    /// everything it got before the new one sees an event.
    /// </summary>
    private async Task SwitchVersionsAsync(InFlightLedger ledger, CancellationToken ct)
    {
        SwitchTransform();
        if (Volatile.Read(ref _pendingSink) is null) return;
        await ledger.WaitUntilEmptyAsync(ct).ConfigureAwait(false);
        await SinkCallAsync(() => _sink.FlushAsync(ct), ct).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _pendingSink, null) is not { } next) return;
        var old = _sink;
        _sink = next.Sink;
        try
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning("pipeline {Pipeline}: disposing the old sink failed: {Error}", _definition.Name, e.Message);
        }
        next.Done.TrySetResult();
        _logger.LogInformation("pipeline {Pipeline}: switched to a new sink version", _definition.Name);
    }

    private bool Transform(ChangeEvent e, List<ChangeEvent> output)
    {
        // The script mutates the event in place: a dead-letter pipeline keeps a copy of it as read (rows and Extra
        // copied, values shared) to write if the script fails half-way. One copy, reused event after event (the
        // dead letter is written at once): no allocation per event.
        ChangeEvent? original = null;
        if (_definition.OnError == OnErrorPolicy.DeadLetter && _deadLetter != null) (original = _deadLetterCopy ??= new ChangeEvent()).CopyFrom(e);
        try
        {
            _transform!.Apply(e, output);
            if (output.Count == 0) Status.AddDropped(1);
            return output.Count > 0;
        }
        catch (Exception ex)
        {
            switch (_definition.OnError)
            {
                case OnErrorPolicy.Skip:
                    Status.AddSkipped(1);
                    _logger.LogWarning("pipeline {Pipeline}: transform failed on {Table} event, skipped: {Error}", _definition.Name, e.Table, ex.Message);
                    return false;
                case OnErrorPolicy.DeadLetter when _deadLetter != null:
                    output.Clear();
                    _deadLetter.Write(original ?? e, "transform", ex);
                    Status.AddDeadLettered(1);
                    return false;
                default:
                    throw new TransformFailedException($"transform failed on {e.Database}.{e.Table} ({e.Gtid ?? e.File + ":" + e.Position}): {ex.Message}", ex);
            }
        }
    }

    /// <summary>A sink call; a failure ends this run so the pipeline starts over from the last checkpoint.</summary>
    private static async Task SinkCallAsync(Func<ValueTask> call, CancellationToken ct)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new SinkFailedException(e);
        }
    }

    /// <summary>A sink call with a result (an acknowledgement); a failure ends this run like <see cref="SinkCallAsync(Func{ValueTask}, CancellationToken)"/>.</summary>
    private static async Task<T> SinkCallAsync<T>(Func<ValueTask<T>> call, CancellationToken ct)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new SinkFailedException(e);
        }
    }

    private void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class PendingSinkSwap(ISink sink)
    {
        public ISink Sink { get; } = sink;
        public TaskCompletionSource Done { get; } = NewSignal();
    }

    /// <summary>The sink threw: the run ends and the pipeline starts over from its last checkpoint.</summary>
    private sealed class SinkFailedException(Exception inner) : Exception(inner.Message, inner);
}
