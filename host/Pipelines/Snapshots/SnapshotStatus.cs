using System.Diagnostics;

namespace PluginHost.Pipelines;

/// <summary>A pipeline's snapshot as the API, metrics and dashboard show it: per table rows read of the estimate, chunks, rate, ETA.</summary>
internal sealed class SnapshotStatus(string id, string kind, IReadOnlyList<SnapshotTableStatus> tables)
{
    private volatile bool _ended;

    public string Id { get; } = id;

    /// <summary>initial or on_demand.</summary>
    public string Kind { get; } = kind;

    public IReadOnlyList<SnapshotTableStatus> Tables { get; } = tables;

    /// <summary>Still reading (not every table done, not cancelled).</summary>
    public bool Active => !_ended && Tables.Any(t => !t.Done);

    /// <summary>Why it ended before its last table (cancelled, failed), or null.</summary>
    public string? EndedBecause { get; private set; }

    public void End(string? because)
    {
        EndedBecause = because;
        _ended = true;
    }

    public SnapshotTableStatus? Find(string database, string table) => Tables.FirstOrDefault(t => t.Database == database && t.Table == table);
}

/// <summary>One table of a snapshot; counters are written by the reader and read by anyone.</summary>
internal sealed class SnapshotTableStatus(string database, string table, long rowsBefore, long chunksBefore, bool done)
{
    private long _rows = rowsBefore, _chunks = chunksBefore, _estimated = -1, _startedAt, _rowsAtStart = rowsBefore;
    private volatile bool _done = done;

    public string Database { get; } = database;
    public string Table { get; } = table;

    /// <summary>Rows handed on so far (including those of earlier runs of the same snapshot).</summary>
    public long Rows => Interlocked.Read(ref _rows);

    public long Chunks => Interlocked.Read(ref _chunks);

    /// <summary>The server's estimate of the table's rows (-1 until known).</summary>
    public long EstimatedRows => Interlocked.Read(ref _estimated);

    public bool Done => _done;

    /// <summary>A table without a usable key, read in one pass.</summary>
    public bool Keyless { get; set; }

    public string? Where { get; init; }

    /// <summary>Rows per second since this run began reading the table (0 before).</summary>
    public double RowsPerSecond
    {
        get
        {
            var started = Interlocked.Read(ref _startedAt);
            if (started == 0) return 0;
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return seconds <= 0 ? 0 : (Rows - Interlocked.Read(ref _rowsAtStart)) / seconds;
        }
    }

    /// <summary>Seconds to go at the current rate, from the estimate; null when unknown or done.</summary>
    public double? EtaSeconds
    {
        get
        {
            var rate = RowsPerSecond;
            if (_done || rate <= 0 || EstimatedRows < 0) return _done ? 0 : null;
            return Math.Max(0, EstimatedRows - Rows) / rate;
        }
    }

    public void Started(long estimated)
    {
        Interlocked.Exchange(ref _estimated, estimated);
        Interlocked.Exchange(ref _rowsAtStart, Rows);
        Interlocked.Exchange(ref _startedAt, Stopwatch.GetTimestamp());
    }

    public void AddChunk(long rows)
    {
        Interlocked.Add(ref _rows, rows);
        Interlocked.Increment(ref _chunks);
        if (EstimatedRows >= 0 && Rows > EstimatedRows) Interlocked.Exchange(ref _estimated, Rows); // (the estimate was low)
    }

    public void Finish()
    {
        _done = true;
        if (EstimatedRows < Rows) Interlocked.Exchange(ref _estimated, Rows);
    }
}
