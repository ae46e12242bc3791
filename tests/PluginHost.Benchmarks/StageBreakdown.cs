using System.Diagnostics;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Benchmarks;

/// <summary>
/// Per-stage latency of an in-process pipeline (see <see cref="PipelineTrace"/>): every event of table
/// <c>bench.ticks</c> with id 1..N gets a timestamp per stage; with the benchmark's own commit and arrival times it
/// prints p50/p99/max of each step and end to end. Also counts GCs, GC pause time and thread-pool backlog over the run.
/// </summary>
internal sealed class StageBreakdown : IDisposable
{
    private static readonly TraceStage[] Stages = Enum.GetValues<TraceStage>();
    private readonly long[][] _at;
    private readonly RuntimeCounters _counters = new();
    private readonly long _offset;

    /// <summary>Listens for ids <paramref name="offset"/> + 1 … <paramref name="offset"/> + <paramref name="count"/>.</summary>
    public StageBreakdown(int count, long offset = 0)
    {
        _offset = offset;
        _at = Stages.Select(_ => new long[count + 1]).ToArray();
        PipelineTrace.Listener = OnStage;
    }

    private void OnStage(TraceStage stage, ChangeEvent e, long at)
    {
        if (e.Table != "ticks" || (e.After ?? e.Before)?["id"] is not { } v) return;
        var id = Convert.ToInt64(v) - _offset;
        var a = _at[(int)stage];
        if (id > 0 && id < a.Length) Volatile.Write(ref a[id], at);
    }

    /// <summary>Starts counting GCs and sampling the thread pool (call as the measured load starts).</summary>
    public void Start() => _counters.Start();

    /// <summary>Prints the steps from <paramref name="committed"/> through the stages to <paramref name="arrived"/> (Stopwatch timestamps, index = id).</summary>
    public void Print(long[] committed, long[] arrived, string arrivedName)
    {
        _counters.Stop();
        var points = new List<(string Name, long[] At)> { ("commit returned", committed) };
        foreach (var s in Stages)
            if (_at[(int)s].Skip(1).Any(t => t != 0)) points.Add((s.ToString().ToLowerInvariant(), _at[(int)s]));
        points.Add((arrivedName, arrived));
        Console.WriteLine($"   per stage (in-process pipeline, {committed.Length - 1:N0} changes; ms, negative steps mean the binlog was read before the commit returned):");
        Console.WriteLine($"   {"step",-36} {"p50",8} {"p99",8} {"max",8}");
        for (var k = 1; k < points.Count; k++)
            Row($"{points[k - 1].Name} → {points[k].Name}", points[k - 1].At, points[k].At);
        foreach (var end in points.Skip(2))
            Row($"commit returned → {end.Name}", committed, end.At);
        _counters.Print();
    }

    private static void Row(string name, long[] from, long[] to)
    {
        var d = new List<double>(from.Length);
        for (var i = 1; i < from.Length; i++)
            if (from[i] != 0 && to[i] != 0) d.Add((to[i] - from[i]) * 1000.0 / Stopwatch.Frequency);
        if (d.Count == 0) return;
        d.Sort();
        Console.WriteLine($"   {name,-36} {Pct(d, 50),8:F2} {Pct(d, 99),8:F2} {d[^1],8:F2}");
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public void Dispose() => PipelineTrace.Listener = null;
}

/// <summary>GC collections and pause time, thread-pool threads and queued work items over a measured run.</summary>
internal sealed class RuntimeCounters
{
    private int _g0, _g1, _g2;
    private TimeSpan _pause;
    private long _allocated;
    private Timer? _sampler;
    private long _maxPending, _samples, _pendingSum;
    private int _maxThreads;

    public void Start()
    {
        _g0 = GC.CollectionCount(0);
        _g1 = GC.CollectionCount(1);
        _g2 = GC.CollectionCount(2);
        _pause = GC.GetTotalPauseDuration();
        _allocated = GC.GetTotalAllocatedBytes();
        _sampler = new Timer(_ =>
        {
            var pending = ThreadPool.PendingWorkItemCount;
            _maxPending = Math.Max(_maxPending, pending);
            _pendingSum += pending;
            _samples++;
            _maxThreads = Math.Max(_maxThreads, ThreadPool.ThreadCount);
        }, null, 0, 10);
    }

    public void Stop() => _sampler?.Dispose();

    public void Print()
    {
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        Console.WriteLine($"   GCs gen0/1/2: {GC.CollectionCount(0) - _g0}/{GC.CollectionCount(1) - _g1}/{GC.CollectionCount(2) - _g2}, " +
                          $"pause total {(GC.GetTotalPauseDuration() - _pause).TotalMilliseconds:F1} ms, allocated {(GC.GetTotalAllocatedBytes() - _allocated) / 1048576.0:F0} MB " +
                          $"(server GC {System.Runtime.GCSettings.IsServerGC}, latency mode {System.Runtime.GCSettings.LatencyMode}); " +
                          $"thread pool: up to {_maxThreads} threads (min {minWorkers}), queued work items mean {(_samples > 0 ? _pendingSum / (double)_samples : 0):F1}, max {_maxPending} (sampled every 10 ms)");
    }
}
