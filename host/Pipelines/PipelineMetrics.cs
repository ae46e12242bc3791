using System.Diagnostics;
using System.Diagnostics.Metrics;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// The data path's own instruments on the <c>PluginHost</c> meter (<see cref="System.Diagnostics.Metrics"/>), recorded
/// by <see cref="PipelineRunner"/> once per sink call — never per event on their own: a batch is counted in runs of one
/// table and operation. With no listener (no API server) each hook costs a couple of flag checks. The REST API's
/// <c>/metrics</c> exposes these beside the counters it reads from <see cref="PipelineStatus"/>.
/// </summary>
internal static class PipelineMetrics
{
    public const string MeterName = "PluginHost";

    /// <summary>Bucket boundaries (seconds) of <see cref="SinkDuration"/>.</summary>
    public static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static readonly Meter Meter = new(MeterName, typeof(PipelineMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Events the sink accepted, tagged <c>pipeline</c>, <c>table</c> (<c>database.table</c>) and <c>op</c>.</summary>
    public static readonly Counter<long> Events = Meter.CreateCounter<long>("pluginhost.events", "{event}",
        "Events handed to the sink, by pipeline, table (database.table) and operation");

    /// <summary>
    /// Duration of each sink call, tagged <c>pipeline</c> and <c>call</c>: <c>write</c> a batch, <c>flush</c> at a transaction
    /// end (sinks with the plain protocol), <c>acknowledge</c> (acknowledging sinks: from handing a batch over until it and
    /// every batch before it were acknowledged).
    /// </summary>
    public static readonly Histogram<double> SinkDuration = Meter.CreateHistogram("pluginhost.sink.duration", "s",
        "Time the sink took per call: write (one batch), flush (acknowledging up to a transaction end), or acknowledge (a batch handed over until acknowledged, in order)", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>Transform compiles (the first one and every hot reload), tagged <c>pipeline</c> and <c>result</c> (ok, failed).</summary>
    public static readonly Counter<long> TransformReloads = Meter.CreateCounter<long>("pluginhost.transform.reloads", "{reload}",
        "Transform script compiles (first and hot reloads), by pipeline and result (ok, failed: the previous version keeps running)");

    /// <summary>After a transform script was compiled (<paramref name="ok"/>) or rejected.</summary>
    public static void TransformCompiled(string pipeline, bool ok) =>
        TransformReloads.Add(1, new KeyValuePair<string, object?>("pipeline", pipeline), new("result", ok ? "ok" : "failed"));

    /// <summary>After a successful <c>ISink.WriteAsync</c> of <paramref name="batch"/> that began at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static void BatchWritten(string pipeline, List<ChangeEvent> batch, long startTimestamp)
    {
        if (SinkDuration.Enabled)
            SinkDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("pipeline", pipeline), new("call", "write"));
        if (!Events.Enabled || batch.Count == 0) return;
        var first = batch[0];
        string database = first.Database, table = first.Table;
        var op = first.Op;
        long run = 0;
        foreach (var e in batch)
        {
            if (e.Op == op && string.Equals(e.Table, table, StringComparison.Ordinal) && string.Equals(e.Database, database, StringComparison.Ordinal))
            {
                run++;
                continue;
            }
            Add(pipeline, database, table, op, run);
            (database, table, op, run) = (e.Database, e.Table, e.Op, 1);
        }
        Add(pipeline, database, table, op, run);
    }

    /// <summary><see cref="BatchWritten"/> for <paramref name="count"/> snapshot rows of one table handed over as JSON lines.</summary>
    public static void LinesWritten(string pipeline, string database, string table, long count, long startTimestamp)
    {
        if (SinkDuration.Enabled)
            SinkDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("pipeline", pipeline), new("call", "write"));
        if (Events.Enabled && count > 0) Add(pipeline, database, table, ChangeOperation.Read, count);
    }

    /// <summary>After a successful <c>ISink.FlushAsync</c> that began at <paramref name="startTimestamp"/>.</summary>
    public static void Flushed(string pipeline, long startTimestamp)
    {
        if (SinkDuration.Enabled)
            SinkDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("pipeline", pipeline), new("call", "flush"));
    }

    /// <summary>An acknowledging sink's batch, handed over at <paramref name="startTimestamp"/>, is acknowledged (with all before it).</summary>
    public static void AcknowledgedBatch(string pipeline, long startTimestamp)
    {
        if (SinkDuration.Enabled)
            SinkDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("pipeline", pipeline), new("call", "acknowledge"));
    }

    private static void Add(string pipeline, string database, string table, ChangeOperation op, long count) =>
        Events.Add(count, new KeyValuePair<string, object?>("pipeline", pipeline), new("table", database + "." + table), new("op", OpName(op)));

    private static string OpName(ChangeOperation op) => op switch
    {
        ChangeOperation.Insert => "insert",
        ChangeOperation.Update => "update",
        ChangeOperation.Delete => "delete",
        ChangeOperation.Read => "read",
        _ => op.ToString().ToLowerInvariant(),
    };
}
