using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PluginHost.Api;

/// <summary>
/// Per-task figures that a sink plugin reports on its own meter, for <c>/metrics.json</c>: the instruments are told
/// apart by name (any meter but the runtime's), tagged <c>pipeline</c> and <c>task</c> — e.g. the webhook plugin's.
/// <list type="bullet">
/// <item><c>….tasks</c> (observable up-down counter, tags <c>pipeline</c>, <c>task</c>, <c>table</c>): the running sinks' tasks;</item>
/// <item><c>….workers</c> (observable up-down counter, tag <c>pipeline</c>): the running sinks' workers;</item>
/// <item><c>….events.delivered</c>, <c>….dead_lettered</c>, <c>….requests</c>, <c>….requests.failed</c> (counters).</item>
/// </list>
/// Counts add up over the host's life (a sink swapped or restarted goes on counting); the task list is what runs now.
/// </summary>
internal sealed class SinkTaskMetrics
{
    public enum Kind
    {
        Tasks,
        Workers,
        Delivered,
        DeadLettered,
        Requests,
        FailedRequests,
    }

    /// <summary>One task's figures; <see cref="Requests"/> counts every attempt, <see cref="FailedRequests"/> those without a 2xx.</summary>
    public sealed record TaskFigures(string Pipeline, string Task, string? Table, long Delivered, long DeadLettered, long Requests, long FailedRequests,
        DateTimeOffset? LastDeliveredAt);

    private sealed class Counts
    {
        public long Delivered, DeadLettered, Requests, Failed;
        public DateTimeOffset? LastDeliveredAt;
    }

    private readonly ConcurrentDictionary<(string Pipeline, string Task), Counts> _counts = new();
    private readonly object _observeGate = new();
    // Per pipeline, the tasks and workers its sink reported at the last observation that saw it (kept while it is
    // stopped or paused, replaced when a new sink reports others).
    private readonly Dictionary<string, List<(string Task, string? Table)>> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _workers = new(StringComparer.Ordinal);
    private Dictionary<string, List<(string Task, string? Table)>>? _observingTasks;
    private Dictionary<string, long>? _observingWorkers;

    /// <summary>What a plugin instrument stands for here, or null.</summary>
    public static Kind? KindOf(Instrument instrument)
    {
        var name = instrument.Name;
        return instrument switch
        {
            ObservableUpDownCounter<long> or ObservableUpDownCounter<int> when name.EndsWith(".tasks", StringComparison.Ordinal) => Kind.Tasks,
            ObservableUpDownCounter<long> or ObservableUpDownCounter<int> when name.EndsWith(".workers", StringComparison.Ordinal) => Kind.Workers,
            Counter<long> or Counter<int> when name.EndsWith(".events.delivered", StringComparison.Ordinal) => Kind.Delivered,
            Counter<long> or Counter<int> when name.EndsWith(".dead_lettered", StringComparison.Ordinal) => Kind.DeadLettered,
            Counter<long> or Counter<int> when name.EndsWith(".requests.failed", StringComparison.Ordinal) => Kind.FailedRequests,
            Counter<long> or Counter<int> when name.EndsWith(".requests", StringComparison.Ordinal) => Kind.Requests,
            _ => null,
        };
    }

    /// <summary>Takes one measurement of a plugin instrument of <paramref name="kind"/> for a pipeline <paramref name="isKnown"/> accepts.</summary>
    public void Record(Kind kind, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, Func<string, bool> isKnown)
    {
        string? pipeline = null, task = null, table = null;
        foreach (var tag in tags)
            switch (tag.Key)
            {
                case "pipeline": pipeline = tag.Value as string; break;
                case "task": task = tag.Value as string; break;
                case "table": table = tag.Value as string; break;
            }
        if (pipeline is null || !isKnown(pipeline)) return;
        if (kind == Kind.Workers)
        {
            lock (_observeGate)
                if (_observingWorkers != null) _observingWorkers[pipeline] = Math.Max(_observingWorkers.GetValueOrDefault(pipeline), value); // (a sink being replaced reports too)
            return;
        }
        if (task is null) return;
        if (kind == Kind.Tasks)
        {
            lock (_observeGate)
                if (_observingTasks != null && value > 0)
                {
                    if (!_observingTasks.TryGetValue(pipeline, out var list)) _observingTasks[pipeline] = list = [];
                    if (!list.Any(t => t.Task == task)) list.Add((task, table));
                }
            return;
        }
        if (value <= 0) return;
        var c = CountsOf(pipeline, task);
        switch (kind)
        {
            case Kind.Delivered:
                Interlocked.Add(ref c.Delivered, value);
                c.LastDeliveredAt = DateTimeOffset.UtcNow;
                break;
            case Kind.DeadLettered: Interlocked.Add(ref c.DeadLettered, value); break;
            case Kind.Requests: Interlocked.Add(ref c.Requests, value); break;
            case Kind.FailedRequests: Interlocked.Add(ref c.Failed, value); break;
        }
    }

    private Counts CountsOf(string pipeline, string task) =>
        _counts.GetOrAdd((pipeline, task), _ => new Counts());

    /// <summary>Brackets one observation of the observable instruments (<paramref name="observe"/> records them all).</summary>
    public void Observe(Action observe)
    {
        lock (_observeGate)
        {
            _observingTasks = new(StringComparer.Ordinal);
            _observingWorkers = new(StringComparer.Ordinal);
        }
        try
        {
            observe();
        }
        finally
        {
            lock (_observeGate)
            {
                foreach (var (pipeline, list) in _observingTasks!) _tasks[pipeline] = list;
                foreach (var (pipeline, n) in _observingWorkers!) _workers[pipeline] = n;
                _observingTasks = null;
                _observingWorkers = null;
            }
        }
    }

    /// <summary>The workers the sink of <paramref name="pipeline"/> reported, or null when it reports none.</summary>
    public long? WorkersOf(string pipeline)
    {
        lock (_observeGate) return _workers.TryGetValue(pipeline, out var n) ? n : null;
    }

    /// <summary>
    /// The tasks of <paramref name="pipeline"/>'s sink in its order, with their counts so far; null when its sink
    /// reports no tasks (not a webhook, or it never ran).
    /// </summary>
    public IReadOnlyList<TaskFigures>? TasksOf(string pipeline)
    {
        List<(string Task, string? Table)> tasks;
        lock (_observeGate)
        {
            if (!_tasks.TryGetValue(pipeline, out var list)) return null;
            tasks = list.ToList();
        }
        return tasks.Select(t =>
        {
            var c = CountsOf(pipeline, t.Task);
            return new TaskFigures(pipeline, t.Task, t.Table, Interlocked.Read(ref c.Delivered), Interlocked.Read(ref c.DeadLettered),
                Interlocked.Read(ref c.Requests), Interlocked.Read(ref c.Failed), c.LastDeliveredAt);
        }).ToList();
    }
}
