using System.Reflection;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Pipelines;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary>A pipeline as <c>GET /pipelines</c> shows it (secrets masked).</summary>
/// <param name="State">starting, running, snapshotting (running and reading a snapshot), degraded (a sink destination is failing), reconnecting, retrying, paused, failed, stopped, disabled or completed (an initial_only snapshot is done).</param>
/// <param name="Origin">file (the configuration file) or api (created or replaced over the API).</param>
/// <param name="Position">The checkpoint: where the pipeline resumes (file, pos, GTID).</param>
/// <param name="LagSeconds">Seconds between now and the binlog time of the newest delivered change.</param>
/// <param name="EventsPerSecond">Events the sink took per second over the last second.</param>
/// <param name="EventsPerSecondHistory">The same, once a second for the last minute, oldest first.</param>
/// <param name="Tables">Events per table (database.table) since the run began: in (read, past the filter) and out (handed to the sink).</param>
/// <param name="Config">The pipeline's definition with secrets masked (only in <c>GET /pipelines/{name}</c>).</param>
/// <param name="Node">Cluster mode: the node that runs it (null when no node reported it lately: then the state is unknown).</param>
internal sealed record PipelineInfo(
    string Name,
    string State,
    PipelineOrigin Origin,
    bool Enabled,
    bool Paused,
    PositionInfo? Position,
    string? Gtid,
    double LagSeconds,
    DateTimeOffset? LastEventTime,
    EventCounters Events,
    IReadOnlyList<TableEvents> Tables,
    long SinkRetries,
    long Transactions,
    int Reconnects,
    int QueueDepth,
    InFlightInfo InFlight,
    SnapshotInfo? Snapshot,
    long BinlogBytesRead,
    double EventsPerSecond,
    IReadOnlyList<double> EventsPerSecondHistory,
    ErrorInfo? LastError,
    TransformInfo? Transform,
    SinkInfo Sink,
    DateTimeOffset StartedAt,
    JsonNode? Config,
    string? Node = null);

/// <summary>A pipeline's snapshot (the one in progress, or the last one of this run).</summary>
/// <param name="Kind">initial or on_demand.</param>
/// <param name="Active">Still reading.</param>
/// <param name="EndedBecause">Why it stopped before its last table (cancelled, a table or condition refused), or null.</param>
internal sealed record SnapshotInfo(string Id, string Kind, bool Active, string? EndedBecause, IReadOnlyList<SnapshotTableInfo> Tables)
{
    public static SnapshotInfo? Of(SnapshotStatus? s) => s is null ? null
        : new SnapshotInfo(s.Id, s.Kind, s.Active, s.EndedBecause, s.Tables.Select(t => new SnapshotTableInfo(
            t.Database + "." + t.Table, t.Done, t.Rows, t.EstimatedRows < 0 ? null : t.EstimatedRows, t.Chunks,
            t.Done ? 100 : t.EstimatedRows > 0 ? Math.Round(Math.Min(99.9, 100.0 * t.Rows / t.EstimatedRows), 1) : null,
            Math.Round(t.RowsPerSecond, 1), t.EtaSeconds is { } eta ? Math.Round(eta, 1) : null, t.Keyless, t.Where)).ToList());
}

/// <summary>One table of a snapshot.</summary>
/// <param name="Rows">Rows delivered so far.</param>
/// <param name="EstimatedRows">The server's estimate of the table's rows (null until the table is begun).</param>
/// <param name="Percent">Rows of the estimate, 0-100 (100 once done).</param>
/// <param name="EtaSeconds">Seconds to go at the current rate (null when unknown).</param>
/// <param name="Keyless">No primary or unique NOT NULL key: read in one pass.</param>
internal sealed record SnapshotTableInfo(string Table, bool Done, long Rows, long? EstimatedRows, long Chunks, double? Percent, double RowsPerSecond,
    double? EtaSeconds, bool Keyless, string? Where);

/// <param name="Events">Events handed to the sink and not yet acknowledged (at most <c>in_flight_events</c>).</param>
/// <param name="Bytes">Their estimated memory (at most <c>in_flight_bytes</c>).</param>
/// <param name="HeldBy">Set while the budget is full: which sink destination the pipeline waits for.</param>
internal sealed record InFlightInfo(long Events, long Bytes, string? HeldBy);

/// <summary>A checkpoint: where a pipeline resumes.</summary>
/// <param name="File">The binlog file; null when only the GTID is known (after a seek to a GTID, until the next checkpoint).</param>
/// <param name="Pos">The offset in <paramref name="File"/>; null with it.</param>
/// <param name="Text">The position as the log and the dashboard write it (<c>mysql-bin.000003:1234 (GTID 0-1-42)</c>, <c>GTID 0-1-42</c>).</param>
internal sealed record PositionInfo(string? File, long? Pos, string? Gtid, string Text, DateTimeOffset UpdatedAt, long EventsDelivered)
{
    public static PositionInfo? Of(Checkpoint? cp) => cp is null
        ? null
        : new PositionInfo(cp.File.Length > 0 ? cp.File : null, cp.File.Length > 0 ? cp.Position : null, string.IsNullOrWhiteSpace(cp.Gtid) ? null : cp.Gtid,
            PositionText.Format(cp.File, cp.Position, cp.Gtid), cp.UpdatedAt, cp.EventsDelivered);
}

/// <summary>One entry of <c>GET /pipelines/{name}/checkpoints</c>.</summary>
/// <param name="Id">What <c>POST /pipelines/{name}/seek</c> with <c>{"checkpoint": ID}</c> goes back to.</param>
/// <param name="At">When the entry was made.</param>
/// <param name="Reason">saved, before seek, seek or before delete.</param>
/// <param name="Note">The operator's call, e.g. <c>seek to GTID 0-1-42</c>.</param>
internal sealed record CheckpointHistoryInfo(long Id, DateTimeOffset At, string Reason, string? Note, PositionInfo Position)
{
    public static CheckpointHistoryInfo Of(CheckpointHistoryEntry e) => new(e.Id, e.At, e.Reason, e.Note, PositionInfo.Of(e.Checkpoint)!);
}

/// <param name="In">Rows read that passed the filter.</param>
/// <param name="Out">Events handed to (and accepted by) the sink.</param>
/// <param name="Filtered">Rows the filter left out.</param>
/// <param name="Dropped">Events the transform dropped.</param>
/// <param name="Skipped">Events skipped because the transform failed (on_error: skip).</param>
/// <param name="DeadLettered">Events dead-lettered: by the transform (on_error: dead_letter) or by the sink plugin (e.g. a webhook dead_letter file).</param>
internal sealed record EventCounters(long In, long Out, long Filtered, long Dropped, long Skipped, long DeadLettered);

/// <summary>One table's events in a pipeline.</summary>
/// <param name="Table">database.table (after the transform for <paramref name="Out"/>).</param>
/// <param name="In">Rows read that passed the filter (snapshot rows included).</param>
/// <param name="Out">Events handed to the sink.</param>
internal sealed record TableEvents(string Table, long In, long Out);

/// <summary>One second of a pipeline's history (<c>GET /history</c>).</summary>
/// <param name="T">Unix time, seconds (UTC).</param>
internal sealed record HistoryPoint(long T, double EventsPerSecond, double LagSeconds);

/// <summary>A pipeline's last 15 minutes, oldest first (<c>GET /history</c>).</summary>
internal sealed record PipelineHistory(string Name, IReadOnlyList<HistoryPoint> Points);

internal sealed record ErrorInfo(string Message, DateTimeOffset? At);

/// <param name="Origin">built-in, or the plugin it comes from (<c>plugin NAME VERSION</c>).</param>
/// <param name="Targets">How each destination is doing (webhook tasks), when the sink tells.</param>
internal sealed record SinkInfo(string Type, string? Origin, string? Plugin, string? PluginVersion, IReadOnlyList<Sdk.SinkTargetHealth>? Targets);

/// <summary><c>GET /plugins</c>.</summary>
internal sealed record PluginsInfo(string Directory, IReadOnlyList<PluginStatus> Plugins, IReadOnlyList<SinkTypeInfo> SinkTypes);

internal sealed record SinkTypeInfo(string Type, string? Origin);

internal static class ApiModels
{
    public static readonly string Version =
        typeof(ApiModels).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ApiModels).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static PipelineInfo Build(PipelineSnapshot s, HostTelemetry telemetry, SinkCatalog sinks, PluginManager? plugins, bool withConfig)
    {
        var st = s.Status;
        var def = s.Entry.Definition;
        var secrets = Secrets.ValuesOf(def);
        var cp = st.Checkpoint;
        var sinkType = def?.SinkType ?? st.SinkType ?? "";
        var plugin = plugins?.Plugins.FirstOrDefault(p => p.SinkTypes.Contains(sinkType, StringComparer.Ordinal));
        var error = st.LastError is { } e ? new ErrorInfo(Secrets.Scrub(e, secrets)!, st.LastErrorAt) : null;
        return new PipelineInfo(
            s.Name,
            s.State.ToText(),
            s.Entry.Origin,
            s.Entry.Enabled,
            s.Entry.Paused,
            PositionInfo.Of(cp),
            string.IsNullOrWhiteSpace(cp?.Gtid) ? null : cp.Gtid,
            st.LagSeconds,
            st.LastEventTime,
            new EventCounters(st.EventsIn, st.EventsOut, st.EventsFiltered, st.EventsDropped, st.EventsSkipped, st.EventsDeadLettered),
            st.Tables.Snapshot().Select(t => new TableEvents(t.Table, t.In, t.Out)).ToList(),
            st.SinkRetries,
            st.Transactions,
            st.Reconnects,
            s.QueueDepth,
            new InFlightInfo(st.InFlightEvents, st.InFlightBytes, st.HeldBy),
            SnapshotInfo.Of(st.Snapshot),
            s.Runner?.BinlogBytesRead ?? 0,
            s.Runner is null ? 0 : Math.Round(telemetry.EventsPerSecond(s.Name), 2),
            telemetry.History(s.Name),
            error,
            TransformInfo.Of(def, st, secrets),
            new SinkInfo(sinkType, sinks.OriginOf(sinkType), plugin?.Name, plugin?.Version, s.Runner is null ? null : MaskTargets(st.SinkTargets?.Invoke(), secrets)),
            st.StartedAt,
            withConfig ? Secrets.Redact(PipelineOptionsJson.OptionsJson(s.Entry)) : null);
    }

    private static IReadOnlyList<Sdk.SinkTargetHealth>? MaskTargets(IReadOnlyList<Sdk.SinkTargetHealth>? targets, IReadOnlyList<string> secrets) =>
        targets?.Select(t => t with { Name = Secrets.Scrub(t.Name, secrets)!, LastError = Secrets.Scrub(t.LastError, secrets) }).ToList();

    /// <summary>Go-style duration as pikachu prints it: <c>2h45m30s</c>.</summary>
    public static string GoDuration(TimeSpan t)
    {
        var total = (long)t.TotalSeconds;
        var h = total / 3600;
        var m = total / 60 % 60;
        var sec = total % 60;
        return h > 0 ? $"{h}h{m}m{sec}s" : m > 0 ? $"{m}m{sec}s" : $"{sec}s";
    }

    /// <summary>Bytes as pikachu prints them: <c>2.5MB</c>.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#}GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#}MB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.#}KB",
        _ => $"{bytes}B",
    };
}
