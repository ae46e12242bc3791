using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
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
public sealed class PipelineRunner
{
    private const int ChunkSize = 1024;
    private readonly PipelineDefinition _definition;
    private readonly ICheckpointStore _store;
    private readonly ILogger _logger;
    private readonly DeadLetterFile? _deadLetter;
    private ISink _sink;
    private IEventTransform? _transform;
    private volatile ISink? _pendingSink;
    private volatile StrongBox<IEventTransform?>? _pendingTransform;
    private TaskCompletionSource? _sinkSwapped;
    private long _delivered;

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
        Status.TransformVersion = transform?.Version;
    }

    public PipelineStatus Status { get; }

    /// <summary>How long a graceful stop waits for in-flight events to be delivered.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Source options beyond the definition (tests shorten heartbeats and backoff).</summary>
    public Func<BinlogClientOptions, BinlogClientOptions>? ConfigureClient { get; init; }

    /// <summary>The sink in use.</summary>
    public ISink Sink => _sink;

    /// <summary>Switches to a new sink at the next transaction boundary (the old one is flushed first, then disposed).</summary>
    public Task SwapSinkAsync(ISink next)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sinkSwapped = tcs;
        _pendingSink = next;
        return tcs.Task;
    }

    /// <summary>Switches to a new transform version at the next transaction boundary.</summary>
    public void SwapTransform(IEventTransform? next) => _pendingTransform = new StrongBox<IEventTransform?>(next);

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled (then drains and checkpoints) or a fatal error.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var name = _definition.Name;
        Status.State = PipelineState.Starting;
        Status.SinkType = _definition.SinkType;
        var checkpoint = await _store.LoadAsync(name, stoppingToken).ConfigureAwait(false);
        if (checkpoint != null)
        {
            Status.SetCheckpoint(checkpoint);
            _delivered = checkpoint.EventsDelivered;
            _logger.LogInformation("pipeline {Pipeline}: resuming from checkpoint {Checkpoint}", name, checkpoint);
        }
        else _logger.LogInformation("pipeline {Pipeline}: no checkpoint, starting at {Start}", name, _definition.Start);

        var clientOptions = new BinlogClientOptions
        {
            Connection = _definition.Connection,
            ServerId = _definition.Options.Source.ServerId,
            Start = _definition.Start,
            HeartbeatInterval = _definition.Options.Source.Heartbeat,
            Log = m => _logger.LogInformation("pipeline {Pipeline}: {Message}", name, m),
        };
        if (ConfigureClient != null) clientOptions = ConfigureClient(clientOptions);
        await using var client = new BinlogClient(clientOptions);
        var resume = checkpoint is null ? null : new BinlogPosition(checkpoint.File, checkpoint.Position, checkpoint.Gtid);

        var channel = Channel.CreateBounded<EventChunk>(new BoundedChannelOptions(_definition.Options.QueueChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var hardStop = new CancellationTokenSource();
        using var readerStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Exception? readerError = null;
        var reader = Task.Run(async () =>
        {
            try
            {
                await ReadLoopAsync(client, resume, channel.Writer, readerStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (readerStop.IsCancellationRequested) { }
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
                await WriteLoopAsync(channel.Reader, hardStop.Token).ConfigureAwait(false);
            }
            finally
            {
                readerStop.Cancel(); // a failed writer must not leave the reader blocked on a full queue
            }
        }, CancellationToken.None);

        // On a graceful stop the writer drains what was read; give it a deadline.
        using var drainTimer = stoppingToken.Register(() => hardStop.CancelAfter(DrainTimeout));
        try
        {
            await Task.WhenAll(reader, writer).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            _logger.LogWarning("pipeline {Pipeline}: stopped before the sink acknowledged everything; undelivered events will be read again", name);
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
        Status.State = PipelineState.Stopped;
        _logger.LogInformation("pipeline {Pipeline}: stopped at {Checkpoint}", name, Status.Checkpoint);
    }

    private void Fail(Exception e)
    {
        Status.State = PipelineState.Failed;
        Status.SetError(e.Message);
        _logger.LogError("pipeline {Pipeline}: failed: {Error}", _definition.Name, e.Message);
    }

    private async Task ReadLoopAsync(BinlogClient client, BinlogPosition? resume, ChannelWriter<EventChunk> output, CancellationToken ct)
    {
        var filter = _definition.Filter;
        var factory = new ChangeEventFactory();
        var chunk = new EventChunk(ChunkSize);
        var committed = client.Committed;
        string? transactionId = null;
        var index = 0;
        var lastPush = Stopwatch.GetTimestamp();
        var reconnects = 0;

        async ValueTask Push(EventChunk c)
        {
            await output.WriteAsync(c, ct).ConfigureAwait(false);
            lastPush = Stopwatch.GetTimestamp();
        }

        void AddRows(RowsEvent rows)
        {
            var op = rows.Kind switch { RowChangeKind.Insert => ChangeOperation.Insert, RowChangeKind.Update => ChangeOperation.Update, _ => ChangeOperation.Delete };
            if (!filter.IncludesTable(rows.Table.Database, rows.Table.Table) || !filter.IncludesOperation(op))
            {
                Status.AddFiltered(rows.Rows.Count);
                index += rows.Rows.Count;
                return;
            }
            var info = factory.TableInfoOf(rows.Table);
            transactionId ??= client.CurrentGtid ?? $"{client.CurrentFile}:{rows.Header.Position}";
            foreach (var row in rows.Rows)
            {
                var e = factory.Create(rows, row, info);
                e.Gtid = client.CurrentGtid;
                e.File = client.CurrentFile;
                e.TransactionId = transactionId;
                e.IndexInTransaction = index++;
                chunk.Events.Add(e);
            }
            Status.AddIn(rows.Rows.Count);
            chunk.LastEventTime = rows.Header.Timestamp;
        }

        await foreach (var ev in client.ReadAsync(resume, ct).ConfigureAwait(false))
        {
            if (client.Reconnects != reconnects)
            {
                reconnects = client.Reconnects;
                Status.Reconnects = reconnects;
            }
            if (Status.State is PipelineState.Starting or PipelineState.Reconnecting) Status.State = PipelineState.Running;
            switch (ev)
            {
                case RowsEvent rows:
                    AddRows(rows);
                    break;
                case TransactionPayloadEvent payload:
                    foreach (var inner in payload.Events)
                        if (inner is RowsEvent r) AddRows(r);
                    break;
                case QueryEvent { IsBegin: false, IsCommit: false, IsRollback: false }:
                    factory.Invalidate();
                    break;
                case HeartbeatEvent:
                    if (chunk.Events.Count == 0 && chunk.TransactionEnd is null) Status.LagSeconds = 0;
                    break;
            }
            if (ev.Header.Timestamp != 0) Status.SetLastEventTime(ev.Header.Timestamp);

            if (!ReferenceEquals(client.Committed, committed))
            {
                committed = client.Committed;
                transactionId = null;
                index = 0;
                if (committed is not null && committed.File.Length > 0)
                {
                    chunk.TransactionEnd = committed;
                    chunk.Transactions++;
                }
            }
            // Hand over full chunks, and transaction ends promptly; coalesce transactions with no wanted rows.
            var due = chunk.Events.Count >= ChunkSize ||
                      chunk.TransactionEnd != null && (chunk.Events.Count > 0 || Stopwatch.GetElapsedTime(lastPush).TotalMilliseconds >= 200) ||
                      ev is HeartbeatEvent && chunk.TransactionEnd != null;
            if (due)
            {
                await Push(chunk).ConfigureAwait(false);
                chunk = new EventChunk(ChunkSize);
            }
        }
    }

    private async Task WriteLoopAsync(ChannelReader<EventChunk> input, CancellationToken hardStop)
    {
        var batchSize = _definition.Options.BatchSize;
        var transformed = new List<ChangeEvent>(4);
        while (await input.WaitToReadAsync(hardStop).ConfigureAwait(false))
        {
            Status.QueueDepth = input.CanCount ? input.Count : 0;
            var batch = new List<ChangeEvent>(Math.Min(batchSize, 8192));
            BinlogPosition? end = null;
            var transactions = 0;
            long newestEventTime = 0;
            while (batch.Count < batchSize && input.TryRead(out var chunk))
            {
                foreach (var e in chunk.Events)
                {
                    if (_transform is null)
                    {
                        batch.Add(e);
                        continue;
                    }
                    transformed.Clear();
                    if (Transform(e, transformed)) batch.AddRange(transformed);
                }
                if (chunk.TransactionEnd != null)
                {
                    end = chunk.TransactionEnd;
                    transactions += chunk.Transactions;
                    if (chunk.LastEventTime != 0) newestEventTime = chunk.LastEventTime;
                    if (_pendingTransform is { } t)
                    {
                        _pendingTransform = null;
                        _transform = t.Value;
                        Status.TransformVersion = t.Value?.Version;
                        _logger.LogInformation("pipeline {Pipeline}: transform version {Version} live from the next transaction", _definition.Name, t.Value?.Version ?? "(none)");
                    }
                    if (_pendingSink != null) break; // cut the batch here so the old sink gets exactly what precedes the boundary
                }
                else if (chunk.LastEventTime != 0) newestEventTime = chunk.LastEventTime;
            }
            if (batch.Count > 0)
                await RetryAsync("writing to the sink", () => _sink.WriteAsync(batch, hardStop), hardStop).ConfigureAwait(false);
            if (end != null)
            {
                await RetryAsync("flushing the sink", () => _sink.FlushAsync(hardStop), hardStop).ConfigureAwait(false);
                _deadLetter?.Flush();
                var cp = new Checkpoint(end.File, end.Position, end.Gtid, DateTimeOffset.UtcNow, _delivered + batch.Count);
                await RetryAsync("saving the checkpoint", () => new ValueTask(_store.SaveAsync(_definition.Name, cp, hardStop)), hardStop).ConfigureAwait(false);
                _delivered += batch.Count;
                Status.AddOut(batch.Count);
                Status.AddTransactions(transactions);
                Status.SetCheckpoint(cp);
                if (newestEventTime != 0) Status.LagSeconds = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - newestEventTime);
                if (_pendingSink is { } next)
                {
                    _pendingSink = null;
                    var old = _sink;
                    _sink = next;
                    await old.DisposeAsync().ConfigureAwait(false);
                    _sinkSwapped?.TrySetResult();
                    _logger.LogInformation("pipeline {Pipeline}: switched to a new sink version", _definition.Name);
                }
            }
            else if (batch.Count > 0)
            {
                // Part of a long transaction: delivered but not yet checkpointable.
                _delivered += batch.Count;
                Status.AddOut(batch.Count);
            }
        }
        // Final flush so nothing accepted stays buffered.
        await RetryAsync("flushing the sink", () => _sink.FlushAsync(hardStop), hardStop).ConfigureAwait(false);
    }

    private bool Transform(ChangeEvent e, List<ChangeEvent> output)
    {
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
                    _deadLetter.Write(e, "transform", ex);
                    Status.AddDeadLettered(1);
                    return false;
                default:
                    throw new TransformFailedException($"transform failed on {e.Database}.{e.Table} ({e.Gtid ?? e.File + ":" + e.Position}): {ex.Message}", ex);
            }
        }
    }

    private async Task RetryAsync(string what, Func<ValueTask> action, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action().ConfigureAwait(false);
                if (Status.State == PipelineState.Retrying)
                {
                    Status.State = PipelineState.Running;
                    Status.SetError(null);
                    _logger.LogInformation("pipeline {Pipeline}: {What} works again", _definition.Name, what);
                }
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                if (e is TransformFailedException) throw;
                Status.State = PipelineState.Retrying;
                Status.SetError($"{what} failed: {e.Message}");
                Status.AddRetry();
                if (attempt == 1 || attempt % 10 == 0)
                    _logger.LogWarning("pipeline {Pipeline}: {What} failed (attempt {Attempt}), retrying in {Delay}: {Error}",
                        _definition.Name, what, attempt, delay, e.Message);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 30_000));
            }
        }
    }
}
