using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Counters of one webhook sink, in total and per task (<c>task_id</c>). Also published as
/// <see cref="System.Diagnostics.Metrics"/> instruments of the meter <c>PluginHost.Webhook</c>, tagged <c>pipeline</c>
/// and, except <c>unrouted</c>, <c>task</c>: <c>webhook.events.delivered</c> (2xx), <c>webhook.events.dead_lettered</c>,
/// <c>webhook.events.unrouted</c>, <c>webhook.requests</c>, <c>webhook.requests.failed</c>, <c>webhook.retries</c>,
/// <c>webhook.request.duration</c> (ms); and, observed from the live sinks, <c>webhook.tasks</c> (1 per task, tags
/// <c>pipeline</c>, <c>task</c>, <c>table</c>) and <c>webhook.workers</c> (the sink's <c>worker_count</c>).
/// </summary>
public sealed class WebhookStats : IDisposable
{
    internal static readonly Meter Meter = new("PluginHost.Webhook", "1.0");
    private static readonly Counter<long> DeliveredCounter = Meter.CreateCounter<long>("webhook.events.delivered", "{event}", "events acknowledged with a 2xx");
    private static readonly Counter<long> DeadLetteredCounter = Meter.CreateCounter<long>("webhook.events.dead_lettered", "{event}", "events written to the dead-letter file");
    private static readonly Counter<long> UnroutedCounter = Meter.CreateCounter<long>("webhook.events.unrouted", "{event}", "events no task takes (acknowledged without sending)");
    private static readonly Counter<long> RequestsCounter = Meter.CreateCounter<long>("webhook.requests", "{request}", "requests sent");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("webhook.requests.failed", "{request}", "requests without a 2xx");
    private static readonly Counter<long> RetriesCounter = Meter.CreateCounter<long>("webhook.retries", "{request}", "requests repeated after a failure");
    private static readonly Histogram<double> DurationHistogram = Meter.CreateHistogram<double>("webhook.request.duration", "ms", "request time");
    private static readonly ConcurrentDictionary<WebhookStats, byte> Live = new();

    static WebhookStats()
    {
        // The runtime's list of meters is a strong root: without this, a hot-reloaded version of this plugin could never
        // be unloaded (the meter, its instruments and their callbacks would keep its load context alive).
        if (System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(WebhookStats).Assembly) is { IsCollectible: true } context)
            context.Unloading += _ => Meter.Dispose();
        Meter.CreateObservableUpDownCounter("webhook.tasks", () => Live.Keys.SelectMany(s => s._tasks.Select(t => t.Announcement)), "{task}",
            "tasks of the running webhook sinks (1 each)");
        Meter.CreateObservableUpDownCounter("webhook.workers", () => Live.Keys.Select(s => new Measurement<long>(s._workers, s._pipelineTag)), "{worker}",
            "delivery lanes (worker_count) of the running webhook sinks");
    }

    private readonly KeyValuePair<string, object?> _pipelineTag;
    private readonly WebhookTaskStats[] _tasks;
    private readonly WebhookTaskStats[] _byRoute;
    private readonly int _workers;
    private long _unrouted;

    internal WebhookStats(string pipeline, IReadOnlyList<WebhookRoute> routes, int workers)
    {
        _pipelineTag = new KeyValuePair<string, object?>("pipeline", pipeline);
        _workers = workers;
        // Tasks are counted by id: routes sharing one (a URL without task_id, written twice) share their figures.
        _tasks = routes.GroupBy(r => r.DisplayId, StringComparer.Ordinal)
            .Select(g => new WebhookTaskStats(g.Key, string.Join(",", g.Select(r => r.Table).Distinct()), _pipelineTag)).ToArray();
        _byRoute = new WebhookTaskStats[routes.Count == 0 ? 0 : routes.Max(r => r.Index) + 1];
        foreach (var r in routes) _byRoute[r.Index] = _tasks.First(t => t.Id == r.DisplayId);
        Live[this] = 0;
    }

    /// <summary>Each task's figures, in the order of the tasks.</summary>
    public IReadOnlyList<WebhookTaskStats> Tasks => _tasks;

    /// <summary>Events a receiver acknowledged with a 2xx (once per task).</summary>
    public long Delivered => _tasks.Sum(t => t.Delivered);

    /// <summary>Events written to the dead-letter file (once per task).</summary>
    public long DeadLettered => _tasks.Sum(t => t.DeadLettered);

    /// <summary>Events no task takes; acknowledged without a request.</summary>
    public long Unrouted => Volatile.Read(ref _unrouted);

    public long Requests => _tasks.Sum(t => t.Requests);
    public long FailedRequests => _tasks.Sum(t => t.FailedRequests);
    public long Retries => _tasks.Sum(t => t.Retries);

    internal void AddUnrouted(int n) { Interlocked.Add(ref _unrouted, n); UnroutedCounter.Add(n, _pipelineTag); }
    internal void AddDelivered(WebhookRoute route, int n) => _byRoute[route.Index].AddDelivered(n);
    internal void AddDeadLettered(WebhookRoute route, int n) => _byRoute[route.Index].AddDeadLettered(n);
    internal void AddRetry(WebhookRoute route) => _byRoute[route.Index].AddRetry();
    internal void AddRequest(WebhookRoute route, bool ok, double ms) => _byRoute[route.Index].AddRequest(ok, ms);

    /// <summary>The sink is gone: its tasks and workers are no longer reported as running.</summary>
    public void Dispose() => Live.TryRemove(this, out _);

    public override string ToString() =>
        $"delivered {Delivered}, dead-lettered {DeadLettered}, unrouted {Unrouted}, requests {Requests} ({FailedRequests} failed, {Retries} retries)";

    /// <summary>The figures of one task (receiver).</summary>
    public sealed class WebhookTaskStats
    {
        private readonly KeyValuePair<string, object?> _pipeline, _task;
        private long _delivered, _deadLettered, _requests, _failed, _retries;

        internal WebhookTaskStats(string id, string table, KeyValuePair<string, object?> pipeline)
        {
            Id = id;
            Table = table;
            _pipeline = pipeline;
            _task = new KeyValuePair<string, object?>("task", id);
            Announcement = new Measurement<long>(1, pipeline, _task, new KeyValuePair<string, object?>("table", table));
        }

        /// <summary>The task id (pikachu's task_id; default the URL as written).</summary>
        public string Id { get; }

        /// <summary>The task's table setting (joined with commas when several tasks share the id).</summary>
        public string Table { get; }

        internal Measurement<long> Announcement { get; }

        /// <summary>Events acknowledged with a 2xx.</summary>
        public long Delivered => Volatile.Read(ref _delivered);
        public long DeadLettered => Volatile.Read(ref _deadLettered);
        public long Requests => Volatile.Read(ref _requests);

        /// <summary>Requests without a 2xx (each attempt).</summary>
        public long FailedRequests => Volatile.Read(ref _failed);
        public long Retries => Volatile.Read(ref _retries);

        internal void AddDelivered(int n) { Interlocked.Add(ref _delivered, n); DeliveredCounter.Add(n, _pipeline, _task); }
        internal void AddDeadLettered(int n) { Interlocked.Add(ref _deadLettered, n); DeadLetteredCounter.Add(n, _pipeline, _task); }
        internal void AddRetry() { Interlocked.Increment(ref _retries); RetriesCounter.Add(1, _pipeline, _task); }

        internal void AddRequest(bool ok, double ms)
        {
            Interlocked.Increment(ref _requests);
            RequestsCounter.Add(1, _pipeline, _task);
            if (!ok)
            {
                Interlocked.Increment(ref _failed);
                FailedCounter.Add(1, _pipeline, _task);
            }
            DurationHistogram.Record(ms, _pipeline, _task);
        }
    }
}
