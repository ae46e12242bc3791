using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Schema;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Runs one pipeline: binlog reader → filter → events → (bounded queue) → transform stage → writer: sink → flush → checkpoint.
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
internal sealed partial class PipelineRunner
{
    private const int ChunkSize = 1024;

    // Fixed at construction.
    private readonly PipelineDefinition _definition;
    private readonly ICheckpointStore _store;
    private readonly ILogger _logger;
    private readonly DeadLetterFile? _deadLetter;
    private readonly Func<BinlogClientOptions, BinlogClientOptions>? _configureClient;
    private readonly YoungGenerationBudget _gen0Budget;

    // Transform and sink versions: handed over by other threads (API, watchers), switched by the writer at transaction boundaries.
    private readonly VersionSwitch _versions;

    // The writer's (and, between runs, RunAsync's).
    private long _written;

    // The transform stage's.
    private bool _initialTransformApplied;
    private ChangeEvent? _deadLetterCopy; // the event as read, kept by Transform for a dead letter
    private List<ChangeEvent>? _transformed; // one event's output

    // The acknowledgement loop's (read by RunAsync between runs).
    private CheckpointSaver _saver = null!; // made in RunAsync (it needs RetryDelay)
    private int _failuresInARow;
    private InFlightLedger? _ledger; // the current run's, for the status and the stop message

    // The reader's, read by others.
    private BinlogPosition? _origin;
    private volatile bool _reading; // connected and has read an event (for Starting → Running once the first transform is ready)
    private BinlogClient? _client; // the current (or last) connection, for BinlogBytesRead
    private long _bytesOfEarlierClients;
    private long _snapshotChunks; // names the snapshot's chunks (transaction ids)
    private SnapshotHandoff? _handoff; // the current run's
    private BinlogNotAvailableException? _positionGone; // when_needed: the run found the checkpoint's binlog purged

    public PipelineRunner(PipelineDefinition definition, ISink sink, ICheckpointStore store, ILogger logger,
        PipelineStatus status, IEventTransform? transform = null, DeadLetterFile? deadLetter = null,
        Func<BinlogClientOptions, BinlogClientOptions>? configureClient = null, YoungGenerationBudget? gen0Budget = null)
    {
        _configureClient = configureClient;
        _gen0Budget = gen0Budget ?? new YoungGenerationBudget();
        _definition = definition;
        _store = store;
        _logger = logger;
        Status = status;
        _versions = new VersionSwitch(definition.Name, sink, transform, status, logger);
        _deadLetter = deadLetter;
        DrainTimeout = definition.Options.DrainTimeout;
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

    /// <summary>Where the pipeline's schema history file is kept (<c>NAME.schema-history.jsonl</c>); null: in memory only.
    /// Set before <see cref="RunAsync"/>.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Tables whose columns are uncertain now (their events carry positional names).</summary>
    public int UncertainTables => _schemaHistory?.UncertainTables ?? 0;

    private PipelineSchemaHistory? _schemaHistory;

    /// <summary>Opens a connection a snapshot reads existing rows through (null: snapshots are not available).</summary>
    internal Func<CancellationToken, Task<ISnapshotSource>>? SnapshotSource { get; init; }

    /// <summary>The sink in use.</summary>
    public ISink Sink => _versions.Sink;

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
    public Task SwapSinkAsync(ISink next) => _versions.OfferSinkAsync(next);

    /// <summary>
    /// Reads <paramref name="tables"/> (checked by the caller) into the running stream, added to a snapshot in progress
    /// or as a new one; the checkpoint keeps it from the next transaction end on.
    /// </summary>
    public SnapshotProgress RequestSnapshot(IReadOnlyList<(string Database, string Table)> tables, string? where)
    {
        var handoff = Volatile.Read(ref _handoff) ?? throw new InvalidOperationException($"pipeline '{_definition.Name}' is not reading the binlog");
        var progress = handoff.Request(tables.Select(t => new SnapshotTableProgress(t.Database, t.Table, Where: where)).ToArray());
        _logger.SnapshotRequested(_definition.Name, string.Join(", ", tables.Select(t => t.Database + "." + t.Table)), where is null ? "" : $" where {where}");
        return progress;
    }

    /// <summary>Cancels the snapshot in progress (the stream goes on); false when none runs.</summary>
    public bool CancelSnapshot() => Volatile.Read(ref _handoff)?.Cancel("cancelled over the API") ?? false;

    /// <summary>Switches to a new transform version at the next transaction boundary.</summary>
    public void SwapTransform(IEventTransform? next) => _versions.OfferTransform(next);

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled (then drains and checkpoints) or a fatal error.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var name = _definition.Name;
        if (!Status.AwaitingTransformFix) Status.State = PipelineState.Starting; // (a first compile that already failed stays shown)
        Status.SinkType = _definition.SinkType;
        _saver = new CheckpointSaver(name, _store, Status, _logger, RetryDelay);
        _schemaHistory ??= new PipelineSchemaHistory(name, StateDirectory is { } dir ? new SchemaHistoryFile(PipelineSchemaHistory.PathOf(dir, name)) : null,
            _definition.Filter.IncludesTable, _logger);
        Status.SinkTargets = () => (_versions.Sink as ISinkHealth)?.Targets;
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
        if (checkpoint?.Snapshot is { Completed: true } && _definition.Snapshot.Mode == SnapshotMode.InitialOnly)
        {
            Status.SetCheckpoint(checkpoint);
            Status.State = PipelineState.Completed; // read once already: nothing more to do
            _logger.SnapshotCompleted(name, checkpoint);
            return;
        }
        if (checkpoint != null)
        {
            Status.SetCheckpoint(checkpoint);
            _written = checkpoint.EventsDelivered;
            _saver.LastQueued = checkpoint;
            _logger.Resuming(name, checkpoint);
        }
        else _logger.StartingWithoutCheckpoint(name, _definition.Start);

        Checkpoint? gone = null; // when_needed: a checkpoint whose binlog the server no longer has (ignored from then on)
        try
        {
            var delay = RetryDelay;
            while (true)
            {
                await _saver.WhenSavedAsync().ConfigureAwait(false);
                var current = Status.Checkpoint is { } c && !ReferenceEquals(c, gone) ? c : null;
                var resume = current is { } cp ? new BinlogPosition(cp.File, cp.Position, cp.Gtid) : _origin;
                _written = current?.EventsDelivered ?? 0;
                // The snapshot resumes where the checkpoint left it; with no checkpoint yet, a snapshot mode reads everything.
                var plan = current is not null ? current.Snapshot is { Completed: true } ? null : current.Snapshot
                    : _definition.Snapshot.Mode != SnapshotMode.Never ? SnapshotPlan.Initial() : null;
                using var completed = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var sinkError = await RunOnceAsync(resume, plan, completed, stoppingToken).ConfigureAwait(false);
                if (_positionGone is { } lost)
                {
                    // The checkpoint's binlog was purged: with when_needed, read the tables again and stream from now.
                    _positionGone = null;
                    _logger.SnapshotPositionGone(name, (object?)current ?? resume!, lost.Message);
                    gone = Status.Checkpoint;
                    _origin = null;
                    _saver.LastQueued = null;
                    continue;
                }
                if (completed.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    Status.State = PipelineState.Completed;
                    _logger.SnapshotCompleted(name, Status.Checkpoint);
                    return;
                }
                if (sinkError is null || stoppingToken.IsCancellationRequested) break;
                if (_failuresInARow == 0) delay = RetryDelay;
                _failuresInARow++;
                Status.State = PipelineState.Retrying;
                Status.SetError($"sink failed: {sinkError.Message}");
                Status.AddRetry();
                if (_failuresInARow == 1 || _failuresInARow % 10 == 0)
                    _logger.SinkFailedStartingOver(name, _failuresInARow, (object?)Status.Checkpoint ?? _origin, delay, sinkError.Message);
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
            await _versions.CancelPendingSinkAsync().ConfigureAwait(false);
        }
        if (Status.State != PipelineState.Failed) Status.State = PipelineState.Stopped;
        _logger.StoppedAt(name, Status.Checkpoint);
    }

    /// <summary>One run of reader and writer from <paramref name="resume"/>; returns the sink's exception when the sink failed (to start over), null when stopped.</summary>
    private async Task<Exception?> RunOnceAsync(BinlogPosition? resume, SnapshotProgress? plan, CancellationTokenSource completed, CancellationToken outerStop)
    {
        var stoppingToken = completed.Token; // an initial_only snapshot that is done stops the run gracefully, like a stop
        var name = _definition.Name;
        Binlog.History.SchemaHistory history;
        try
        {
            history = _schemaHistory!.Open(resume); // as of the resume point: events after it are read again
        }
        catch (Exception e)
        {
            Fail(e);
            throw;
        }
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
            Log = m => _logger.BinlogClientMessage(name, m),
            SchemaHistory = history,
        };
        if (_configureClient != null) clientOptions = _configureClient(clientOptions);
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
        var handoff = new SnapshotHandoff(Status, plan, streamRows: _definition.Snapshot.Mode != SnapshotMode.InitialOnly);
        if (plan is null && Status.Snapshot is { Active: true } stale) stale.End("the pipeline restarted without it");
        Volatile.Write(ref _handoff, handoff);
        var snapshots = SnapshotSource is null ? Task.CompletedTask : Task.Run(async () =>
        {
            var coordinator = new SnapshotCoordinator(name, _definition.Snapshot, handoff, Status, SnapshotSource,
                (db, table) => _definition.Filter.IncludesTable(db, table) && (_definition.Snapshot.Tables?.IncludesTable(db, table) ?? true), _logger);
            _ = coordinator.Completed.ContinueWith(_ => completed.Cancel(), TaskScheduler.Default);
            try
            {
                await coordinator.RunAsync(readStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        var reader = Task.Run(async () =>
        {
            try
            {
                await ReadLoopAsync(client, resume, channel.Writer, budget, handoff, stoppingToken, readStop).ConfigureAwait(false);
            }
            catch (BinlogNotAvailableException e) when (resume != null && _definition.Snapshot.Mode == SnapshotMode.WhenNeeded)
            {
                _positionGone = e;
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
        // The transform stage between the queue and the writer: it drains the queue on a graceful stop like the writer
        // (so not the reader's stop), and ends with a hard stop or the writer.
        var transformed = Channel.CreateBounded<EventChunk>(new BoundedChannelOptions(TransformedChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stageStop = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        var stage = Task.Run(async () =>
        {
            if (!await TransformLoopAsync(channel.Reader, transformed.Writer, stageStop.Token).ConfigureAwait(false))
                readStop.Cancel(); // failed: the reader must not wait on a full queue
        }, CancellationToken.None);
        var writer = Task.Run(async () =>
        {
            try
            {
                await WriteLoopAsync(transformed.Reader, channel.Reader, budget, hardStop.Token).ConfigureAwait(false);
            }
            finally
            {
                readStop.Cancel(); // a failed writer must not leave the reader blocked on a full queue
                stageStop.Cancel(); // nor the stage on a full hand-over
                await stage.ConfigureAwait(false);
            }
        }, CancellationToken.None);

        // On a graceful stop the reader finishes its transaction and the writer drains what was read; give it a deadline.
        using var drainTimer = stoppingToken.Register(() => hardStop.CancelAfter(DrainTimeout));
        try
        {
            try
            {
                await Task.WhenAll(reader, writer).ConfigureAwait(false);
            }
            finally
            {
                readStop.Cancel(); // the snapshot's reads end with the run
                try { await snapshots.ConfigureAwait(false); } catch (Exception) { }
            }
        }
        catch (SinkFailedException e)
        {
            return e.InnerException ?? e;
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            var left = Volatile.Read(ref _ledger);
            _logger.DrainTimeout(name, DrainTimeout, left?.Events ?? 0, (object?)Status.Checkpoint ?? resume);
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

    private void Fail(Exception e)
    {
        Status.State = PipelineState.Failed;
        Status.SetError(e.Message);
        _logger.PipelineFailed(_definition.Name, e.Message);
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

    /// <summary>The sink threw: the run ends and the pipeline starts over from its last checkpoint.</summary>
    private sealed class SinkFailedException(Exception inner) : Exception(inner.Message, inner);
}
