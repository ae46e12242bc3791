using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Pipelines;

/// <summary>The log lines of the Pipelines room (event ids 1000-1999).</summary>
internal static partial class PipelinesLog
{
    [LoggerMessage(EventIds.PipelinesStarted, LogLevel.Information, "{Count} pipeline(s) started from {File}")]
    public static partial void PipelinesStarted(this ILogger logger, int count, string? file);

    [LoggerMessage(EventIds.PipelinesAllCompleted, LogLevel.Information, "every pipeline completed ({Count}) and no API is served: the process exits")]
    public static partial void PipelinesAllCompleted(this ILogger logger, int count);

    [LoggerMessage(EventIds.PipelinesStopped, LogLevel.Information, "all pipelines stopped")]
    public static partial void PipelinesStopped(this ILogger logger);

    [LoggerMessage(EventIds.PipelineResuming, LogLevel.Information, "pipeline {Pipeline}: resuming from checkpoint {Checkpoint}")]
    public static partial void Resuming(this ILogger logger, string pipeline, object? checkpoint);

    [LoggerMessage(EventIds.PipelineStartingWithoutCheckpoint, LogLevel.Information, "pipeline {Pipeline}: no checkpoint, starting at {Start}")]
    public static partial void StartingWithoutCheckpoint(this ILogger logger, string pipeline, object? start);

    [LoggerMessage(EventIds.PipelineStoppedAt, LogLevel.Information, "pipeline {Pipeline}: stopped at {Checkpoint}")]
    public static partial void StoppedAt(this ILogger logger, string pipeline, object? checkpoint);

    [LoggerMessage(EventIds.PipelineFailed, LogLevel.Error, "pipeline {Pipeline}: failed: {Error}")]
    public static partial void PipelineFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.PipelineBinlogClientMessage, LogLevel.Information, "pipeline {Pipeline}: {Message}")]
    public static partial void BinlogClientMessage(this ILogger logger, string pipeline, string message);

    [LoggerMessage(EventIds.PipelineSinkFailedStartingOver, LogLevel.Warning,
        "pipeline {Pipeline}: the sink failed (attempt {Attempt}); starting over from checkpoint {Checkpoint} in {Delay}: {Error}")]
    public static partial void SinkFailedStartingOver(this ILogger logger, string pipeline, int attempt, object? checkpoint, TimeSpan delay, string error);

    [LoggerMessage(EventIds.PipelineSinkWorksAgain, LogLevel.Information, "pipeline {Pipeline}: the sink works again")]
    public static partial void SinkWorksAgain(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.PipelineDrainTimeout, LogLevel.Warning,
        "pipeline {Pipeline}: stopped after drain_timeout ({Drain}) with {Events} event(s) not yet acknowledged by the sink; " +
        "the next start sends them again from checkpoint {Checkpoint}")]
    public static partial void DrainTimeout(this ILogger logger, string pipeline, TimeSpan drain, long events, object? checkpoint);

    [LoggerMessage(EventIds.PipelineCannotCreateSink, LogLevel.Error, "pipeline {Pipeline}: cannot create its {Type} sink: {Error}")]
    public static partial void CannotCreateSink(this ILogger logger, string pipeline, string type, string error);

    [LoggerMessage(EventIds.PipelineCannotOpenCheckpointStore, LogLevel.Error, "pipeline {Pipeline}: cannot open its {Type} checkpoint store: {Error}")]
    public static partial void CannotOpenCheckpointStore(this ILogger logger, string pipeline, string type, string error);

    [LoggerMessage(EventIds.PipelineCannotStart, LogLevel.Error, "pipeline {Pipeline}: {Error}")]
    public static partial void CannotStart(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.PipelineTransformVersionLive, LogLevel.Information, "pipeline {Pipeline}: transform version {Version} live from the next transaction")]
    public static partial void TransformVersionLive(this ILogger logger, string pipeline, string version);

    [LoggerMessage(EventIds.PipelineOldSinkDisposeFailed, LogLevel.Warning, "pipeline {Pipeline}: disposing the old sink failed: {Error}")]
    public static partial void OldSinkDisposeFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.PipelineSwitchedSink, LogLevel.Information, "pipeline {Pipeline}: switched to a new sink version")]
    public static partial void SwitchedSink(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.PipelineTransformFailedSkipped, LogLevel.Warning, "pipeline {Pipeline}: transform failed on {Table} event, skipped: {Error}")]
    public static partial void TransformFailedSkipped(this ILogger logger, string pipeline, object? table, string error);

    [LoggerMessage(EventIds.PipelineCheckpointSaved, LogLevel.Debug, "pipeline {Pipeline}: checkpoint saved at {Checkpoint} ({Events} events delivered)")]
    public static partial void CheckpointSaved(this ILogger logger, string pipeline, object? checkpoint, long events);

    [LoggerMessage(EventIds.PipelineCheckpointSavingWorksAgain, LogLevel.Information, "pipeline {Pipeline}: saving the checkpoint works again")]
    public static partial void CheckpointSavingWorksAgain(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.PipelineCheckpointSavingFailed, LogLevel.Warning, "pipeline {Pipeline}: saving the checkpoint failed, retrying: {Error}")]
    public static partial void CheckpointSavingFailed(this ILogger logger, string pipeline, string error);
}
