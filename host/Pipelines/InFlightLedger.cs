using PluginHost.Binlog.Replication;

namespace PluginHost.Pipelines;

/// <summary>One batch handed to the sink and not yet acknowledged, with what its acknowledgement makes checkpointable.</summary>
internal sealed class InFlightBatch
{
    /// <summary>Completes when the sink acknowledged every event of the batch; faults when it gave up on one.</summary>
    public required Task Acknowledged { get; init; }

    /// <summary>The end of the batch's last whole transaction (null: the batch ends inside a transaction).</summary>
    public BinlogPosition? End { get; init; }

    /// <summary>Events delivered since the pipeline's first event, counted up to <see cref="End"/>.</summary>
    public long DeliveredAtEnd { get; init; }

    /// <summary>The snapshot's progress at <see cref="End"/> (saved with its checkpoint), null when none.</summary>
    public Checkpoints.SnapshotProgress? SnapshotAtEnd { get; init; }

    public int Events { get; init; }
    public long Bytes { get; init; }
    public int Transactions { get; init; }

    /// <summary>Binlog times (seconds since epoch) of the batch's oldest and newest change; 0 when unknown.</summary>
    public long OldestEventTime { get; init; }
    public long NewestEventTime { get; init; }

    /// <summary>When it was handed to an acknowledging sink (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0: a plain sink, flushed already.</summary>
    public long HandedAt { get; init; }

    /// <summary>The batch's events, kept only while <see cref="PipelineTrace"/> listens (benchmarks).</summary>
    public IReadOnlyList<Sdk.ChangeEvent>? Traced { get; init; }
}

/// <summary>
/// The batches a pipeline handed to its sink, oldest first, and the budget they may take (events and estimated
/// bytes). The writer adds batches and waits for room; the acknowledgement loop takes them off in order, so the
/// checkpoint is always the low-water mark of acknowledged transactions. A batch larger than the whole budget still
/// passes when nothing else is in flight, so one huge transaction never deadlocks. One writer, one acknowledger.
/// </summary>
internal sealed class InFlightLedger(long maxEvents, long maxBytes)
{
    private readonly object _gate = new();
    private readonly Queue<InFlightBatch> _batches = new();
    private long _events, _bytes;
    private bool _completed;
    private TaskCompletionSource? _added, _removed;

    public long MaxEvents { get; } = maxEvents;

    /// <summary>Why the sink's acknowledgements stopped (set by the acknowledgement loop before it ends the run).</summary>
    public Exception? Fault { get => Volatile.Read(ref _fault); set => Volatile.Write(ref _fault, value); }

    private Exception? _fault;
    public long MaxBytes { get; } = maxBytes;

    public long Events
    {
        get { lock (_gate) return _events; }
    }

    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>True while the budget is used up (the writer waits for the oldest acknowledgement).</summary>
    public bool Full
    {
        get { lock (_gate) return _batches.Count > 0 && (_events >= MaxEvents || _bytes >= MaxBytes); }
    }

    /// <summary>The oldest batch still owed, or null.</summary>
    public InFlightBatch? Oldest
    {
        get { lock (_gate) return _batches.Count > 0 ? _batches.Peek() : null; }
    }

    public void Add(InFlightBatch batch)
    {
        TaskCompletionSource? added;
        lock (_gate)
        {
            _batches.Enqueue(batch);
            _events += batch.Events;
            _bytes += batch.Bytes;
            added = _added;
            _added = null;
        }
        added?.TrySetResult();
    }

    /// <summary>No more batches will be added: <see cref="NextAsync"/> returns null once the last was taken off.</summary>
    public void Complete()
    {
        TaskCompletionSource? added;
        lock (_gate)
        {
            _completed = true;
            added = _added;
            _added = null;
        }
        added?.TrySetResult();
    }

    /// <summary>Waits until the budget has room for more (or nothing is in flight).</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken ct)
    {
        while (true)
        {
            Task removed;
            lock (_gate)
            {
                if (_batches.Count == 0 || _events < MaxEvents && _bytes < MaxBytes) return;
                removed = (_removed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await removed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every batch added so far was acknowledged and taken off.</summary>
    public async ValueTask WaitUntilEmptyAsync(CancellationToken ct)
    {
        while (true)
        {
            Task removed;
            lock (_gate)
            {
                if (_batches.Count == 0) return;
                removed = (_removed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await removed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>The oldest batch (left in place until <see cref="Remove"/>); null once completed and empty.</summary>
    public async ValueTask<InFlightBatch?> NextAsync(CancellationToken ct)
    {
        while (true)
        {
            Task added;
            lock (_gate)
            {
                if (_batches.Count > 0) return _batches.Peek();
                if (_completed) return null;
                added = (_added ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await added.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the oldest batch off once acknowledged, giving its budget back.</summary>
    public void Remove(InFlightBatch batch)
    {
        TaskCompletionSource? removed;
        lock (_gate)
        {
            if (_batches.Count == 0 || !ReferenceEquals(_batches.Peek(), batch)) throw new InvalidOperationException("not the oldest batch in flight");
            _batches.Dequeue();
            _events -= batch.Events;
            _bytes -= batch.Bytes;
            removed = _removed;
            _removed = null;
        }
        removed?.TrySetResult();
    }
}
