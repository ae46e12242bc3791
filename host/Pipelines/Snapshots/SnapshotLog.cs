using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Pipelines;

/// <summary>The snapshot's log lines (event ids 1100-1199 of the Pipelines range).</summary>
internal static partial class SnapshotLog
{
    [LoggerMessage(EventIds.SnapshotPlanned, LogLevel.Information, "pipeline {Pipeline}: {Kind} snapshot of {Count} table(s): {Tables}")]
    public static partial void SnapshotPlanned(this ILogger logger, string pipeline, string kind, int count, string tables);

    [LoggerMessage(EventIds.SnapshotTableStarted, LogLevel.Information, "pipeline {Pipeline}: snapshot of {Table} (about {Estimated} rows, chunk key {Key}) from row {From}")]
    public static partial void SnapshotTableStarted(this ILogger logger, string pipeline, string table, long estimated, string key, long from);

    [LoggerMessage(EventIds.SnapshotTableDone, LogLevel.Information, "pipeline {Pipeline}: snapshot of {Table} done, {Rows} rows")]
    public static partial void SnapshotTableDone(this ILogger logger, string pipeline, string table, long rows);

    [LoggerMessage(EventIds.SnapshotDone, LogLevel.Information, "pipeline {Pipeline}: snapshot done; the stream goes on")]
    public static partial void SnapshotDone(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.SnapshotCancelled, LogLevel.Information, "pipeline {Pipeline}: snapshot cancelled; the stream goes on")]
    public static partial void SnapshotCancelled(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.SnapshotFailed, LogLevel.Warning, "pipeline {Pipeline}: snapshot stopped: {Error}; the stream goes on")]
    public static partial void SnapshotFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.SnapshotTableGone, LogLevel.Warning, "pipeline {Pipeline}: snapshot table {Table} is gone ({Error}); skipped")]
    public static partial void SnapshotTableGone(this ILogger logger, string pipeline, string table, string error);

    [LoggerMessage(EventIds.SnapshotPositionGone, LogLevel.Warning,
        "pipeline {Pipeline}: the checkpoint's binlog {Checkpoint} is gone from the server ({Error}); snapshot.mode when_needed: reading the tables again and streaming from now")]
    public static partial void SnapshotPositionGone(this ILogger logger, string pipeline, object checkpoint, string error);

    [LoggerMessage(EventIds.SnapshotCompleted, LogLevel.Information, "pipeline {Pipeline}: initial_only snapshot completed at {Checkpoint}; the pipeline ends")]
    public static partial void SnapshotCompleted(this ILogger logger, string pipeline, object? checkpoint);

    [LoggerMessage(EventIds.SnapshotRequested, LogLevel.Information, "pipeline {Pipeline}: snapshot of {Tables} asked for{Where}")]
    public static partial void SnapshotRequested(this ILogger logger, string pipeline, string tables, string where);
}
