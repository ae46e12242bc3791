using System.Diagnostics;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary><c>GET /health</c>: pikachu's shape plus one entry per pipeline. <c>status</c> is DOWN (and the code 503) when any pipeline failed.</summary>
internal sealed record HealthInfo(
    string Status,
    bool MonitorRunning,
    bool DispatcherRunning,
    int EventQueueSize,
    DateTimeOffset? LastEventTime,
    string Uptime,
    double UptimeSeconds,
    string Version,
    IReadOnlyDictionary<string, PipelineHealth> Pipelines);

/// <param name="Status">UP; DEGRADED while a sink destination fails (its events wait, the others flow) or the in-flight
/// budget is full; DOWN when the pipeline failed.</param>
/// <param name="HeldBy">Set while the in-flight budget is full: which sink destination the pipeline waits for.</param>
/// <param name="Node">Cluster mode: the node that runs it (status UNKNOWN and null when no node reported it lately).</param>
internal sealed record PipelineHealth(string Status, string State, DateTimeOffset? LastEventTime, double LagSeconds, int EventQueueSize,
    string? LastError, DateTimeOffset? LastErrorAt, long InFlightEvents, string? HeldBy, string? Node = null);

/// <summary><c>GET /health/live</c> and <c>/health/ready</c>.</summary>
internal sealed record ProbeInfo(string Status, string? Reason = null);

/// <summary><c>GET /metrics.json</c>: pikachu's JSON metrics, filled from the pipelines.</summary>
internal sealed record MetricsJson(SystemMetrics System, MonitorMetrics Monitor, DispatcherMetrics Dispatcher, IReadOnlyList<TaskMetrics> Tasks);

/// <param name="Goroutines">Thread-pool threads (the closest thing .NET has).</param>
internal sealed record SystemMetrics(int Goroutines, int Threads, string MemoryAlloc, string MemoryTotal, int GcCycles, long MemoryAllocBytes, long WorkingSetBytes);

/// <param name="TablesMonitored">Distinct tables events were delivered for.</param>
/// <param name="TotalEventsProcessed">Events delivered to sinks by every pipeline.</param>
/// <param name="BinlogPosition">The first pipeline's checkpoint (pikachu has one stream; see <c>tasks</c> for each).</param>
internal sealed record MonitorMetrics(string Status, int TablesMonitored, long TotalEventsProcessed, double EventsPerSecond, DateTimeOffset? LastEventTime,
    BinlogPositionInfo? BinlogPosition);

internal sealed record BinlogPositionInfo(string File, long Position);

/// <param name="WorkersActive">Workers of the pipelines delivering now (a webhook sink's <c>worker_count</c>, 1 for other sinks).</param>
/// <param name="WorkersTotal">Workers of every pipeline defined (counted the same way).</param>
/// <param name="QueueSize">Chunks waiting between readers and sinks.</param>
/// <param name="QueueCapacity">Their capacity (sum of queue_chunks).</param>
/// <param name="WebhooksSent">Webhook requests answered with a 2xx (unrouted and dead-lettered events are not sent); for sinks
/// that report no requests (file, Kafka), the events they acknowledged.</param>
/// <param name="WebhooksFailed">Webhook requests without a 2xx (each attempt); for other sinks, failed sink calls (each retried)
/// plus events that went to a dead-letter file.</param>
/// <param name="SuccessRate">100 × sent / (sent + failed).</param>
/// <param name="AvgResponseTime">Mean duration of a sink write.</param>
internal sealed record DispatcherMetrics(string Status, int WorkersActive, int WorkersTotal, int QueueSize, int QueueCapacity, long WebhooksSent,
    long WebhooksFailed, double SuccessRate, string AvgResponseTime);

/// <summary>One webhook task (<c>task_id</c>), or one pipeline whose sink has no tasks.</summary>
/// <param name="TaskId">The webhook task's id; for other sinks the pipeline's name.</param>
/// <param name="TableName">The task's table; for other sinks the pipeline's filter (include patterns), or * for all.</param>
/// <param name="EventsProcessed">Events the task's receiver acknowledged with a 2xx; for other sinks the events the sink acknowledged.</param>
/// <param name="LastProcessed">When the task last got a 2xx; for other sinks the binlog time of the newest change delivered.</param>
/// <param name="Status">active, paused, failed, stopped or disabled (the pipeline's).</param>
/// <param name="Pipeline">The pipeline the task belongs to.</param>
/// <param name="EventsDeadLettered">The task's events written to the dead-letter file.</param>
/// <param name="RequestsFailed">The task's requests without a 2xx (each attempt).</param>
internal sealed record TaskMetrics(string TaskId, string TableName, long EventsProcessed, DateTimeOffset? LastProcessed, string Status, string State, double LagSeconds,
    string Pipeline, long EventsDeadLettered, long RequestsFailed);

/// <summary>What the dashboard's event stream sends every second.</summary>
internal sealed record DashboardSnapshot(string Status, string Version, string Uptime, bool TokenRequired, IReadOnlyList<PipelineInfo> Pipelines);

internal static class HealthReports
{
    private static string StatusOf(PipelineSnapshot s) =>
        s.IsFailed ? "DOWN" : s.State == PipelineDisplayState.Degraded || s.Runner != null && s.Status.HeldBy != null ? "DEGRADED" : "UP";

    /// <param name="elsewhere">Cluster mode: a pipeline another node runs as that node reported it (or unknown); null for this node's own.</param>
    /// <param name="self">Cluster mode: this node's id (shown with its own pipelines).</param>
    public static HealthInfo Health(PipelineControl control, HostTelemetry telemetry, Func<PipelineSnapshot, PipelineInfo?>? elsewhere = null, string? self = null)
    {
        var list = control.List();
        var uptime = DateTimeOffset.UtcNow - telemetry.StartedAt;
        var pipelines = list.ToDictionary(s => s.Name, s => elsewhere?.Invoke(s) is { } info ? Of(info) : new PipelineHealth(
            StatusOf(s), s.State.ToText(), s.Status.LastEventTime, s.Status.LagSeconds, s.QueueDepth,
            Secrets.Scrub(s.Status.LastError, Secrets.ValuesOf(s.Entry.Definition)), s.Status.LastErrorAt,
            s.Runner is null ? 0 : s.Status.InFlightEvents, s.Runner is null ? null : s.Status.HeldBy, self), StringComparer.Ordinal);
        return new HealthInfo(
            pipelines.Values.Any(p => p.Status == "DOWN") ? "DOWN" : pipelines.Values.Any(p => p.Status == "DEGRADED") ? "DEGRADED" : "UP",
            list.Any(s => s.State.IsReading()),
            list.Any(s => s.State.IsDelivering()),
            list.Sum(s => s.QueueDepth),
            list.Max(s => s.Status.LastEventTime),
            ApiModels.GoDuration(uptime),
            Math.Round(uptime.TotalSeconds, 3),
            ApiModels.Version,
            pipelines);
    }

    /// <summary>A pipeline as another node reported it (or unknown).</summary>
    private static PipelineHealth Of(PipelineInfo p) => new(
        p.State switch { "failed" => "DOWN", "degraded" => "DEGRADED", "unknown" => "UNKNOWN", _ => p.InFlight.HeldBy != null ? "DEGRADED" : "UP" },
        p.State, p.LastEventTime, p.LagSeconds, p.QueueDepth, p.LastError?.Message, p.LastError?.At, p.InFlight.Events, p.InFlight.HeldBy, p.Node);

    public static MetricsJson Metrics(PipelineControl control, HostTelemetry telemetry)
    {
        var list = control.List();
        var process = Process.GetCurrentProcess();
        var system = new SystemMetrics(ThreadPool.ThreadCount, process.Threads.Count, ApiModels.Bytes(GC.GetTotalMemory(false)),
            ApiModels.Bytes(GC.GetTotalAllocatedBytes()), GC.CollectionCount(0), GC.GetTotalMemory(false), process.WorkingSet64);
        var first = list.Select(s => s.Status.Checkpoint).FirstOrDefault(c => c != null);
        var anyFailed = list.Any(s => s.IsFailed);
        var reading = list.Any(s => s.State.IsReading());
        var monitor = new MonitorMetrics(
            anyFailed ? "degraded" : reading ? "running" : "stopped",
            telemetry.TablesSeen(),
            list.Sum(s => s.Status.EventsOut),
            Math.Round(list.Sum(s => telemetry.EventsPerSecond(s.Name)), 2),
            list.Max(s => s.Status.LastEventTime),
            first is null ? null : new BinlogPositionInfo(first.File, first.Position));
        var sinkTasks = telemetry.SinkTasks();
        var tasksOf = list.ToDictionary(s => s.Name, s => sinkTasks.TasksOf(s.Name), StringComparer.Ordinal);
        // Webhook pipelines: requests answered 2xx / without a 2xx; other sinks: events acknowledged / failed calls and dead letters.
        var sent = list.Sum(s => tasksOf[s.Name] is { } t ? t.Sum(x => x.Requests - x.FailedRequests) : s.Status.EventsOut);
        var failed = list.Sum(s => tasksOf[s.Name] is { } t ? t.Sum(x => x.FailedRequests) : s.Status.SinkRetries + s.Status.EventsDeadLettered);
        long Workers(PipelineSnapshot s) => sinkTasks.WorkersOf(s.Name) ?? 1;
        var (sum, count) = telemetry.SinkWriteDurations();
        var dispatcher = new DispatcherMetrics(
            anyFailed ? "degraded" : list.Any(s => s.State.IsDelivering()) ? "running" : "stopped",
            (int)list.Where(s => s.State.IsDelivering()).Sum(Workers),
            (int)list.Sum(Workers),
            list.Sum(s => s.QueueDepth),
            list.Sum(s => s.Entry.Definition?.Options.QueueChunks ?? 0),
            sent,
            failed,
            sent + failed == 0 ? 100 : Math.Round(100.0 * sent / (sent + failed), 2),
            count == 0 ? "0ms" : $"{sum / count * 1000:0.###}ms");
        static string TaskStatus(PipelineDisplayState state) => state.IsReading() ? "active" : state.ToText();
        var tasks = list.SelectMany(s => tasksOf[s.Name] is { } figures
            ? figures.Select(t => new TaskMetrics(t.Task, t.Table ?? "*", t.Delivered, t.LastDeliveredAt, TaskStatus(s.State), s.State.ToText(), s.Status.LagSeconds,
                s.Name, t.DeadLettered, t.FailedRequests))
            : [new TaskMetrics(
                s.Name,
                s.Entry.Definition is { } d && d.Options.Filter.Include.Count > 0 ? string.Join(",", d.Options.Filter.Include) : "*",
                s.Status.EventsOut,
                s.Status.LastEventTime,
                TaskStatus(s.State),
                s.State.ToText(),
                s.Status.LagSeconds,
                s.Name,
                s.Status.EventsDeadLettered,
                0)]).ToList();
        return new MetricsJson(system, monitor, dispatcher, tasks);
    }
}
