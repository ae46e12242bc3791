using System.Diagnostics;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Where the snapshot coordinator hands chunks to the reader, which alone decides where in the stream they go: a
/// chunk waits until the reader has read up to the chunk's binlog position, then goes in at the next transaction
/// boundary, without the rows the stream changed since (<see cref="SnapshotWindow"/>). It also keeps the snapshot's
/// progress as handed on — what each transaction end carries into the checkpoint.
/// </summary>
internal sealed class SnapshotHandoff
{
    /// <summary>With watermarks, a change read this long before a chunk's read began still counts as possibly unseen by it.</summary>
    public static readonly TimeSpan WatermarkGrace = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private readonly PipelineStatus _status;
    private SnapshotWindow? _window; // the table being read in chunks (reader records, coordinator opens and closes)
    private (string Database, string Table, BinlogPosition UpTo)? _suppress; // a keyless table read whole: its changes up to here are in the pass
    private SnapshotDelivery? _pending;
    private TaskCompletionSource _signal = NewSignal();
    private CancellationTokenSource _epoch = new();
    private volatile SnapshotProgress? _progress;
    private volatile bool _watching, _hasPending, _forgotten;

    public SnapshotHandoff(PipelineStatus status, SnapshotProgress? progress, bool streamRows)
    {
        _status = status;
        StreamRows = streamRows;
        if (progress != null) SetProgress(progress);
    }

    /// <summary>The progress as handed on so far (null: no snapshot); every transaction end carries it into the checkpoint.</summary>
    public SnapshotProgress? Progress => _progress;

    /// <summary>False for <c>initial_only</c>: the stream's own rows are not delivered, only the snapshot's.</summary>
    public bool StreamRows { get; }

    /// <summary>A window or suppression is open: the reader shows this table's changes to <see cref="Observe"/>.</summary>
    public bool Watching => _watching;

    /// <summary>A chunk waits to go in.</summary>
    public bool HasPending => _hasPending;

    /// <summary>The plan was cancelled and no checkpoint says so yet: the reader writes one at its next boundary, even when no transaction comes.</summary>
    public bool Forgotten => _forgotten;

    /// <summary>The reader is writing the checkpoint that forgets the plan.</summary>
    public void ForgetRecorded() => _forgotten = false;

    /// <summary>Completes when a chunk is handed over or the plan changes (the reader and the coordinator wait on it).</summary>
    public Task Signal
    {
        get { lock (_gate) return _signal.Task; }
    }

    /// <summary>Cancelled when the snapshot is cancelled; the coordinator's reads stop with it.</summary>
    public CancellationToken Epoch
    {
        get { lock (_gate) return _epoch.Token; }
    }

    // ---- the coordinator's side ----

    /// <summary>Starts (or extends) the plan; the status shows it at once.</summary>
    public void SetProgress(SnapshotProgress progress)
    {
        lock (_gate)
        {
            _progress = progress;
            var old = _status.Snapshot;
            var tables = progress.Tables.Select(t => old?.Id == progress.Id && old.Find(t.Database, t.Table) is { } known ? known
                : new SnapshotTableStatus(t.Database, t.Table, t.Rows, t.Chunks, t.Done) { Where = t.Where }).ToArray();
            _status.Snapshot = new SnapshotStatus(progress.Id, progress.Kind, tables);
            Wake();
        }
    }

    /// <summary>
    /// Adds tables to read (an on-demand snapshot): to the snapshot in progress, or as a new one. A table already
    /// waiting is not added twice; one read to its end earlier in the same snapshot is read again.
    /// </summary>
    public SnapshotProgress Request(IReadOnlyList<SnapshotTableProgress> tables)
    {
        lock (_gate)
        {
            SnapshotProgress next;
            if (_progress is not { Completed: false } p || p.Current is null && p.Tables.Count > 0)
                next = new SnapshotProgress(SnapshotPlan.NewId("on_demand"), "on_demand", tables);
            else
            {
                bool Asked(SnapshotTableProgress t) => tables.Any(x => x.Database == t.Database && x.Table == t.Table);
                var kept = p.Tables.Where(t => !(t.Done && Asked(t))).ToList();
                kept.AddRange(tables.Where(x => !kept.Any(t => t.Database == x.Database && t.Table == x.Table)));
                next = p with { Tables = kept };
            }
            SetProgress(next);
            return next;
        }
    }

    /// <summary>Every table is read: the plan ends (kept as completed for <c>initial_only</c>, else forgotten).</summary>
    public void Finish(bool keepRecord)
    {
        lock (_gate)
        {
            if (_progress is { } p) _progress = keepRecord ? p with { Completed = true } : null;
            Wake();
        }
    }

    /// <summary>Drops the plan: nothing more is read; the checkpoint forgets it at the next transaction end.</summary>
    public bool Cancel(string because)
    {
        lock (_gate)
        {
            if (_progress is null || _progress.Current is null) return false;
            _progress = null;
            _window = null;
            _watching = _suppress != null;
            _pending?.Abandon();
            _pending = null;
            _hasPending = false;
            _epoch.Cancel();
            _epoch = new CancellationTokenSource();
            _forgotten = true;
            _status.Snapshot?.End(because);
            Wake();
            return true;
        }
    }

    public SnapshotWindow OpenWindow(SnapshotTableHandle table)
    {
        lock (_gate)
        {
            _window = new SnapshotWindow(table);
            _watching = true;
            return _window;
        }
    }

    public void CloseWindow()
    {
        lock (_gate)
        {
            _window = null;
            _watching = _suppress != null;
        }
    }

    /// <summary>Hands a delivery to the reader; the task completes once its rows are queued (cancelled if the snapshot is).</summary>
    public Task HandOver(SnapshotDelivery delivery)
    {
        lock (_gate)
        {
            if (_progress is null) return Task.FromCanceled(new CancellationToken(true));
            _pending = delivery;
            _hasPending = true;
            Wake();
        }
        return delivery.Queued;
    }

    // ---- the reader's side ----

    /// <summary>Records a change of the table being read (call only while <see cref="Watching"/>).</summary>
    public void Observe(ChangeEvent e, string file, long end)
    {
        var window = Volatile.Read(ref _window);
        if (window is null || window.Table.Database != e.Database || window.Table.Table != e.Table) return;
        if (RowKey.Of(e.Before, window.Table.KeyColumns) is { } before) window.Record(before, file, end);
        if (RowKey.Of(e.After, window.Table.KeyColumns) is { } after) window.Record(after, file, end);
    }

    /// <summary>True for a change a whole-table pass already holds (a keyless table's rows up to the pass's position).</summary>
    public bool Suppressed(string database, string table, string file, long end) =>
        _suppress is { } s && s.Database == database && s.Table == table && SnapshotWindow.Compare(file, end, s.UpTo) <= 0;

    /// <summary>Once the reader has passed the position of the last suppressed change, suppression ends.</summary>
    public void Passed(string file, long end)
    {
        if (_suppress is { } s && SnapshotWindow.Compare(file, end, s.UpTo) > 0)
            lock (_gate)
            {
                _suppress = null;
                _watching = _window != null;
            }
    }

    /// <summary>The delivery due at <paramref name="readEnd"/> (the reader is between transactions there), or null.</summary>
    public SnapshotDelivery? TakeDue(string file, long readEnd)
    {
        lock (_gate)
        {
            if (_pending is not { } d || d.DueAt is { } due && SnapshotWindow.Compare(file, readEnd, due) < 0) return null;
            _pending = null;
            _hasPending = false;
            return d;
        }
    }

    /// <summary>After a delivery's rows were queued: the progress moves on (it goes into the checkpoint with them).</summary>
    public void Delivered(SnapshotDelivery d, long rows, bool tableDone, string? lastKey, bool completedKeepsRecord)
    {
        lock (_gate)
        {
            if (_progress is not { } p) return;
            var t = p.Tables.First(x => x.Database == d.Table.Database && x.Table == d.Table.Table);
            var next = p.With(t with { Done = tableDone, LastKey = lastKey ?? t.LastKey, Rows = t.Rows + rows, Chunks = t.Chunks + 1 });
            if (next.Current is null) next = completedKeepsRecord ? next with { Completed = true } : null!;
            _progress = next;
            if (_status.Snapshot?.Find(d.Table.Database, d.Table.Table) is { } shown)
            {
                shown.AddChunk(rows);
                if (tableDone) shown.Finish();
            }
        }
    }

    /// <summary>A keyless pass ended: its table's changes up to <paramref name="upTo"/> are in it (exact passes only).</summary>
    public void SuppressUpTo(SnapshotTableHandle table, BinlogPosition upTo)
    {
        lock (_gate)
        {
            _suppress = (table.Database, table.Table, upTo);
            _watching = true;
        }
    }

    private void Wake() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Rows for the reader to put into the stream: a read chunk, or a whole-table pass the reader runs itself.</summary>
internal sealed class SnapshotDelivery
{
    private readonly TaskCompletionSource _queued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public required SnapshotTableHandle Table { get; init; }

    /// <summary>Due once the reader has read up to here (the chunk's position); null: at the next boundary.</summary>
    public BinlogPosition? DueAt { get; init; }

    /// <summary>A chunk: its rows and what places them.</summary>
    public SnapshotChunk? Chunk { get; init; }

    public SnapshotWindow? Window { get; init; }

    /// <summary>The chunk's mean row size (<see cref="SnapshotRowSize.Measure"/>) charged to the queue per row; 0: measured per row.</summary>
    public long BytesPerRow { get; init; }

    /// <summary>Watermarks: the timestamp (minus the grace) when the chunk's read began.</summary>
    public long OpenedAt { get; init; }

    /// <summary>A keyless table: the pass, run by the reader with the row callback it is given.</summary>
    public Func<Func<ChangeEvent, ValueTask>, CancellationToken, Task<SnapshotPass>>? Pass { get; init; }

    public Task Queued => _queued.Task;

    /// <summary>The chunk's rows without those the stream changed after the chunk was read; prunes the window.</summary>
    public IEnumerable<ChangeEvent> RowsToDeliver()
    {
        var chunk = Chunk!;
        if (Window is not { Count: > 0 } window) return chunk.Rows;
        var exact = chunk.Exact ? chunk.Position : null;
        var keep = new List<ChangeEvent>(chunk.Rows.Count);
        foreach (var row in chunk.Rows)
            if (RowKey.Of(row.After, Table.KeyColumns) is not { } key || !window.ChangedAfter(key, exact, OpenedAt))
                keep.Add(row);
        window.Prune(exact, OpenedAt);
        return keep;
    }

    /// <summary>
    /// <see cref="RowsToDeliver"/> for a chunk held as <see cref="SnapshotChunk.Raw"/>: the indexes of the rows to
    /// deliver, null for all; prunes the window.
    /// </summary>
    public IReadOnlyList<int>? RawRowsToDeliver()
    {
        var chunk = Chunk!;
        var raw = chunk.Raw!;
        if (Window is not { Count: > 0 } window) return null;
        var exact = chunk.Exact ? chunk.Position : null;
        var key = raw.Table.ChunkKey;
        var keep = new List<int>(raw.Count);
        for (var r = 0; r < raw.Count; r++)
            if (!window.ChangedAfter(RowKey.OfValues(key.Select(c => raw.ValueObject(r, c))), exact, OpenedAt))
                keep.Add(r);
        window.Prune(exact, OpenedAt);
        return keep;
    }

    public void Done() => _queued.TrySetResult();

    public void Fail(Exception e) => _queued.TrySetException(e);

    public void Abandon() => _queued.TrySetCanceled();

    public static long GraceTimestamp() => Stopwatch.GetTimestamp() - (long)(SnapshotHandoff.WatermarkGrace.TotalSeconds * Stopwatch.Frequency);
}
