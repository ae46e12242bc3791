namespace PluginHost.Pipelines;

/// <summary>
/// Keeps the youngest GC generation small. The workstation GC sizes its gen0 budget from the CPU's L3 cache (16 MB and
/// more on server CPUs, up to 200 MB without background GC) and the runtime offers no setting for it outside an
/// environment variable. A pipeline allocates short-lived events at a high rate, so that budget, not live data,
/// decides its memory. Every pipeline writer calls <see cref="Check"/> once per batch: when more than the budget was
/// allocated since the last gen0 collection (whoever caused it), it asks for one. Such a collection only visits the
/// few objects that are still alive (the queued rows), so it is cheap; measured in the pipeline benchmark. The host
/// shares one (a singleton, <c>memory.gen0_budget</c>) among its pipelines.
/// </summary>
internal sealed class YoungGenerationBudget(long budget = YoungGenerationBudget.DefaultBudget)
{
    /// <summary>The default of <c>memory.gen0_budget</c>: 8 MiB.</summary>
    public const long DefaultBudget = 8L << 20;

    private long _budget = Math.Max(0, budget);
    private long _mark;
    private int _collections = -1;
    private long _induced;

    /// <summary>Bytes allocated between gen0 collections before one is asked for; 0 leaves it to the runtime.</summary>
    public long Budget
    {
        get => Volatile.Read(ref _budget);
        set => Volatile.Write(ref _budget, Math.Max(0, value));
    }

    /// <summary>Collections asked for so far (<c>pluginhost.gc.gen0_requested</c>).</summary>
    public long Induced => Interlocked.Read(ref _induced);

    /// <summary>
    /// The least budget while a snapshot is read: its rows live from their chunk's read to the sink (two chunks of up to
    /// <see cref="SnapshotRowSize.ChunkBytes"/> and the queue), so with a smaller budget every collection copied almost
    /// every row it found (perf: a third less GC work for a million rows; peak RSS in docs/benchmarks.md#snapshot).
    /// </summary>
    public const long SnapshotFloor = 4 * SnapshotRowSize.ChunkBytes;

    /// <summary>
    /// The least budget while a JavaScript transform runs: it allocates ~4 KB of short-lived interpreter objects per
    /// event, and a collection's pause grows with the count of objects it sweeps, not just the survivors (measured on
    /// the kafka benchmark with the README rule: 8 MiB 133 collections of ~10 ms for 300,000 events, 32 MiB 44 of
    /// ~15 ms; 17.7 → 15.6 µs of host CPU per event; docs/benchmarks.md#kafka).
    /// </summary>
    public const long JavaScriptFloor = 32L << 20;

    /// <summary>Collects gen0 when more than <see cref="Budget"/> (at least <paramref name="floor"/>) bytes were allocated since the last collection.</summary>
    public void Check(long floor = 0)
    {
        var budget = Budget;
        if (budget == 0) return;
        budget = Math.Max(budget, floor);
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var collections = GC.CollectionCount(0);
        if (collections != Volatile.Read(ref _collections))
        {
            // A collection happened since we last looked: count from here.
            Volatile.Write(ref _collections, collections);
            Volatile.Write(ref _mark, allocated);
            return;
        }
        var mark = Volatile.Read(ref _mark);
        if (allocated - mark < budget) return;
        if (Interlocked.CompareExchange(ref _mark, allocated, mark) != mark) return; // another pipeline is on it
        // Not blocking: should the GC raise this to a gen2 collection, it runs in the background instead of stopping
        // the process (measured: blocking ones showed as 50-100 ms spikes in the commit-to-sink latency).
        GC.Collect(0, GCCollectionMode.Forced, blocking: false);
        Interlocked.Increment(ref _induced);
        Volatile.Write(ref _collections, GC.CollectionCount(0));
        Volatile.Write(ref _mark, GC.GetTotalAllocatedBytes(precise: false));
    }
}
