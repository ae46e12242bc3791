using System.Diagnostics;
using PluginHost.Config;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary><c>GET /health</c>: pikachu's shape plus one entry per pipeline. <c>status</c> is DOWN (and the code 503) when any pipeline failed.</summary>
public sealed record HealthInfo(
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
public sealed record PipelineHealth(string Status, string State, DateTimeOffset? LastEventTime, double LagSeconds, int EventQueueSize,
    string? LastError, DateTimeOffset? LastErrorAt, long InFlightEvents, string? HeldBy);

/// <summary><c>GET /health/live</c> and <c>/health/ready</c>.</summary>
public sealed record ProbeInfo(string Status, string? Reason = null);

/// <summary><c>GET /metrics.json</c>: pikachu's JSON metrics, filled from the pipelines.</summary>
public sealed record MetricsJson(SystemMetrics System, MonitorMetrics Monitor, DispatcherMetrics Dispatcher, IReadOnlyList<TaskMetrics> Tasks);

/// <param name="Goroutines">Thread-pool threads (the closest thing .NET has).</param>
public sealed record SystemMetrics(int Goroutines, int Threads, string MemoryAlloc, string MemoryTotal, int GcCycles, long MemoryAllocBytes, long WorkingSetBytes);

/// <param name="TablesMonitored">Distinct tables events were delivered for.</param>
/// <param name="TotalEventsProcessed">Events delivered to sinks by every pipeline.</param>
/// <param name="BinlogPosition">The first pipeline's checkpoint (pikachu has one stream; see <c>tasks</c> for each).</param>
public sealed record MonitorMetrics(string Status, int TablesMonitored, long TotalEventsProcessed, double EventsPerSecond, DateTimeOffset? LastEventTime,
    BinlogPositionInfo? BinlogPosition);

public sealed record BinlogPositionInfo(string File, long Position);

/// <param name="WorkersActive">Pipelines delivering now.</param>
/// <param name="WorkersTotal">Pipelines defined.</param>
/// <param name="QueueSize">Chunks waiting between readers and sinks.</param>
/// <param name="QueueCapacity">Their capacity (sum of queue_chunks).</param>
/// <param name="WebhooksSent">Events accepted by sinks (any sink type).</param>
/// <param name="WebhooksFailed">Failed sink calls (each retried) plus events that went to a dead-letter file.</param>
/// <param name="AvgResponseTime">Mean duration of a sink write.</param>
public sealed record DispatcherMetrics(string Status, int WorkersActive, int WorkersTotal, int QueueSize, int QueueCapacity, long WebhooksSent,
    long WebhooksFailed, double SuccessRate, string AvgResponseTime);

/// <param name="TaskId">The pipeline's name.</param>
/// <param name="TableName">The pipeline's filter (include patterns), or * for all.</param>
/// <param name="Status">active, paused, failed, stopped or disabled.</param>
public sealed record TaskMetrics(string TaskId, string TableName, long EventsProcessed, DateTimeOffset? LastProcessed, string Status, string State, double LagSeconds);

/// <summary>What the dashboard's event stream sends every second.</summary>
public sealed record DashboardSnapshot(string Status, string Version, string Uptime, bool TokenRequired, IReadOnlyList<PipelineInfo> Pipelines);

internal static class HealthReports
{
    private static readonly string[] Reading = ["starting", "running", "degraded", "reconnecting", "retrying"];

    private static string StatusOf(PipelineControl.Snapshot s) =>
        s.IsFailed ? "DOWN" : s.State == "degraded" || s.Runner != null && s.Status.HeldBy != null ? "DEGRADED" : "UP";

    public static HealthInfo Health(PipelineControl control, HostTelemetry telemetry)
    {
        var list = control.List();
        var uptime = DateTimeOffset.UtcNow - telemetry.StartedAt;
        var pipelines = list.ToDictionary(s => s.Name, s => new PipelineHealth(
            StatusOf(s), s.State, s.Status.LastEventTime, s.Status.LagSeconds, s.QueueDepth,
            Secrets.Scrub(s.Status.LastError, Secrets.ValuesOf(s.Entry.Definition)), s.Status.LastErrorAt,
            s.Runner is null ? 0 : s.Status.InFlightEvents, s.Runner is null ? null : s.Status.HeldBy), StringComparer.Ordinal);
        return new HealthInfo(
            list.Any(s => s.IsFailed) ? "DOWN" : pipelines.Values.Any(p => p.Status == "DEGRADED") ? "DEGRADED" : "UP",
            list.Any(s => Reading.Contains(s.State)),
            list.Any(s => s.State is "running" or "degraded" or "retrying"),
            list.Sum(s => s.QueueDepth),
            list.Max(s => s.Status.LastEventTime),
            ApiModels.GoDuration(uptime),
            Math.Round(uptime.TotalSeconds, 3),
            ApiModels.Version,
            pipelines);
    }

    public static MetricsJson Metrics(PipelineControl control, HostTelemetry telemetry)
    {
        var list = control.List();
        var process = Process.GetCurrentProcess();
        var system = new SystemMetrics(ThreadPool.ThreadCount, process.Threads.Count, ApiModels.Bytes(GC.GetTotalMemory(false)),
            ApiModels.Bytes(GC.GetTotalAllocatedBytes()), GC.CollectionCount(0), GC.GetTotalMemory(false), process.WorkingSet64);
        var first = list.Select(s => s.Status.Checkpoint).FirstOrDefault(c => c != null);
        var anyFailed = list.Any(s => s.IsFailed);
        var reading = list.Any(s => Reading.Contains(s.State));
        var monitor = new MonitorMetrics(
            anyFailed ? "degraded" : reading ? "running" : "stopped",
            telemetry.TablesSeen(),
            list.Sum(s => s.Status.EventsOut),
            Math.Round(list.Sum(s => telemetry.EventsPerSecond(s.Name)), 2),
            list.Max(s => s.Status.LastEventTime),
            first is null ? null : new BinlogPositionInfo(first.File, first.Position));
        var sent = list.Sum(s => s.Status.EventsOut);
        var failed = list.Sum(s => s.Status.SinkRetries + s.Status.EventsDeadLettered);
        var (sum, count) = telemetry.SinkWriteDurations();
        var dispatcher = new DispatcherMetrics(
            anyFailed ? "degraded" : list.Any(s => s.State is "running" or "degraded" or "retrying") ? "running" : "stopped",
            list.Count(s => s.State is "running" or "degraded" or "retrying"),
            list.Count,
            list.Sum(s => s.QueueDepth),
            list.Sum(s => s.Entry.Definition?.Options.QueueChunks ?? 0),
            sent,
            failed,
            sent + failed == 0 ? 100 : Math.Round(100.0 * sent / (sent + failed), 2),
            count == 0 ? "0ms" : $"{sum / count * 1000:0.###}ms");
        var tasks = list.Select(s => new TaskMetrics(
            s.Name,
            s.Entry.Definition is { } d && d.Options.Filter.Include.Count > 0 ? string.Join(",", d.Options.Filter.Include) : "*",
            s.Status.EventsOut,
            s.Status.LastEventTime,
            s.State switch { "running" or "degraded" or "starting" or "reconnecting" or "retrying" => "active", var other => other },
            s.State,
            s.Status.LagSeconds)).ToList();
        return new MetricsJson(system, monitor, dispatcher, tasks);
    }
}
