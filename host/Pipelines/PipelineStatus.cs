using PluginHost.Checkpoints;
using PluginHost.Scripting;

namespace PluginHost.Pipelines;

/// <summary>Live, thread-safe status and counters of one pipeline (read by /health, /metrics and the REST API).</summary>
internal sealed class PipelineStatus(string name) : ITransformStatus
{
    private long _eventsIn, _eventsOut, _filtered, _dropped, _skipped, _deadLettered, _sinkDeadLettered, _retries, _sinkReportedRetries, _transactions;
    private volatile object? _checkpoint;
    private volatile string? _lastError;
    private long _lastErrorAtTicks, _queuedBytes, _inFlightEvents, _inFlightBytes;
    private volatile string? _heldBy;
    private volatile PipelineState _state = PipelineState.Starting;
    private volatile bool _awaitingTransformFix;

    public string Name { get; } = name;

    /// <summary>The snapshot being read (or the last one of this run), null when none.</summary>
    public SnapshotStatus? Snapshot { get; set; }
    public PipelineState State { get => _state; set => _state = value; }

    /// <summary>
    /// True while the pipeline's first transform does not compile and it waits for a saved fix (shown failed; it needs a
    /// person, not time, so <c>/health/ready</c> does not wait for it, and a reconnect does not hide it).
    /// </summary>
    public bool AwaitingTransformFix { get => _awaitingTransformFix; set => _awaitingTransformFix = value; }
    public string? LastError => _lastError;
    public DateTimeOffset? LastErrorAt => _lastErrorAtTicks == 0 ? null : new DateTimeOffset(Interlocked.Read(ref _lastErrorAtTicks), TimeSpan.Zero);

    /// <summary>Rows read that passed the filter.</summary>
    public long EventsIn => Interlocked.Read(ref _eventsIn);
    /// <summary>Events acknowledged by the sink.</summary>
    public long EventsOut => Interlocked.Read(ref _eventsOut);
    public long EventsFiltered => Interlocked.Read(ref _filtered);
    /// <summary>Events a transform dropped (returned null).</summary>
    public long EventsDropped => Interlocked.Read(ref _dropped);
    /// <summary>Events skipped because the transform failed (on_error: skip).</summary>
    public long EventsSkipped => Interlocked.Read(ref _skipped);
    /// <summary>Events dead-lettered: by the transform (on_error: dead_letter) and by the sink (e.g. a webhook's dead_letter file).</summary>
    public long EventsDeadLettered => Interlocked.Read(ref _deadLettered) + Interlocked.Read(ref _sinkDeadLettered);
    /// <summary>Events the transform dead-lettered (on_error: dead_letter).</summary>
    public long TransformDeadLettered => Interlocked.Read(ref _deadLettered);
    /// <summary>Events the sink plugin reported dead-lettered itself (on its meter, see <see cref="AddSinkDeadLettered"/>).</summary>
    public long SinkDeadLettered => Interlocked.Read(ref _sinkDeadLettered);
    /// <summary>Sink retries: the pipeline starting over from its checkpoint (sink or checkpoint store failed) plus the
    /// retries the sink plugin reported making itself (e.g. a webhook request repeated).</summary>
    public long SinkRetries => Interlocked.Read(ref _retries) + Interlocked.Read(ref _sinkReportedRetries);
    public long Transactions => Interlocked.Read(ref _transactions);
    public Checkpoint? Checkpoint => _checkpoint as Checkpoint;

    /// <summary>
    /// Binlog time of the newest change delivered, as saved with the checkpoint (so it survives restarts and ignores
    /// heartbeats, rotations and other non-change events); null before the first change ever.
    /// </summary>
    public DateTimeOffset? LastEventTime => Checkpoint?.LastEventTime;

    /// <summary>Seconds between now and the binlog time of the newest delivered change (0 when caught up and idle).</summary>
    public double LagSeconds { get; set; }

    public int QueueDepth { get; set; }

    /// <summary>Estimated memory of the rows in the queue (bounded by queue_bytes).</summary>
    public long QueuedBytes
    {
        get => Interlocked.Read(ref _queuedBytes);
        set => Interlocked.Exchange(ref _queuedBytes, value);
    }
    /// <summary>Events handed to the sink and not yet acknowledged (bounded by in_flight_events).</summary>
    public long InFlightEvents
    {
        get => Interlocked.Read(ref _inFlightEvents);
        set => Interlocked.Exchange(ref _inFlightEvents, value);
    }

    /// <summary>Their estimated memory (bounded by in_flight_bytes).</summary>
    public long InFlightBytes
    {
        get => Interlocked.Read(ref _inFlightBytes);
        set => Interlocked.Exchange(ref _inFlightBytes, value);
    }

    /// <summary>Set while the in-flight budget is full: what the pipeline waits for (which sink target holds it).</summary>
    public string? HeldBy { get => _heldBy; set => _heldBy = value; }

    /// <summary>How each destination of the running sink is doing (null when the sink does not say, or nothing runs).</summary>
    public Func<IReadOnlyList<Sdk.SinkTargetHealth>?>? SinkTargets { get; set; }

    /// <summary>Events per table, in and out.</summary>
    public TableCounts Tables { get; } = new();

    public int Reconnects { get; set; }
    public string? SinkType { get; set; }
    public string? TransformVersion { get; set; }
    public string? TransformDiagnostics { get; set; }
    public DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;

    public void AddIn(long n) => Interlocked.Add(ref _eventsIn, n);
    public void AddOut(long n) => Interlocked.Add(ref _eventsOut, n);
    public void AddFiltered(long n) => Interlocked.Add(ref _filtered, n);
    public void AddDropped(long n) => Interlocked.Add(ref _dropped, n);
    public void AddSkipped(long n) => Interlocked.Add(ref _skipped, n);
    public void AddDeadLettered(long n) => Interlocked.Add(ref _deadLettered, n);
    public void AddRetry() => Interlocked.Increment(ref _retries);
    /// <summary>Events the sink plugin dead-lettered (reported on its own meter).</summary>
    public void AddSinkDeadLettered(long n) => Interlocked.Add(ref _sinkDeadLettered, n);
    /// <summary>Retries the sink plugin made itself (reported on its own meter).</summary>
    public void AddSinkRetries(long n) => Interlocked.Add(ref _sinkReportedRetries, n);
    public void AddTransactions(long n) => Interlocked.Add(ref _transactions, n);
    public void SetCheckpoint(Checkpoint cp) => _checkpoint = cp;

    public void SetError(string? message)
    {
        _lastError = message;
        Interlocked.Exchange(ref _lastErrorAtTicks, message is null ? 0 : DateTimeOffset.UtcNow.UtcTicks);
    }

    void ITransformStatus.TransformFailed(string message)
    {
        State = PipelineState.Failed;
        SetError(message);
    }

    void ITransformStatus.TransformCompiled()
    {
        State = PipelineState.Starting;
        SetError(null);
    }

    void ITransformStatus.TransformRecovered()
    {
        if (State != PipelineState.Failed) return;
        State = PipelineState.Running;
        SetError(null);
    }
}
