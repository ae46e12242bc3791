using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Control;

/// <summary>The log lines of the Control room (event ids 6000-6999).</summary>
internal static partial class ControlLog
{
    [LoggerMessage(EventIds.ControlNote, LogLevel.Warning, "{Note}")]
    public static partial void Note(this ILogger logger, string note);

    [LoggerMessage(EventIds.ControlApiPipelinesLoaded, LogLevel.Information, "{Count} pipeline(s) from {File} (created or changed over the API)")]
    public static partial void ApiPipelinesLoaded(this ILogger logger, int count, string file);

    [LoggerMessage(EventIds.ControlCreated, LogLevel.Information, "pipeline {Pipeline}: created over the API")]
    public static partial void Created(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.ControlDefined, LogLevel.Information, "pipeline {Pipeline}: {What} over the API")]
    public static partial void Defined(this ILogger logger, string pipeline, string what);

    [LoggerMessage(EventIds.ControlDeleted, LogLevel.Information, "pipeline {Pipeline}: deleted over the API{Forget}")]
    public static partial void Deleted(this ILogger logger, string pipeline, string forget);

    [LoggerMessage(EventIds.ControlPaused, LogLevel.Information, "pipeline {Pipeline}: paused over the API at {Checkpoint}")]
    public static partial void Paused(this ILogger logger, string pipeline, object checkpoint);

    [LoggerMessage(EventIds.ControlResumed, LogLevel.Information, "pipeline {Pipeline}: resumed over the API")]
    public static partial void Resumed(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.ControlRestarted, LogLevel.Information, "pipeline {Pipeline}: restarted over the API")]
    public static partial void Restarted(this ILogger logger, string pipeline);

    [LoggerMessage(EventIds.ControlSeekHistoryFailed, LogLevel.Warning, "pipeline {Pipeline}: the seek's position was not noted in the checkpoint history: {Error}")]
    public static partial void SeekHistoryFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.ControlMoved, LogLevel.Information, "pipeline {Pipeline}: moved over the API to {Target} (was {Previous})")]
    public static partial void Moved(this ILogger logger, string pipeline, object target, object previous);

    [LoggerMessage(EventIds.ControlFirstCheckpointFailed, LogLevel.Warning, "pipeline {Pipeline}: stopped before its first checkpoint, and saving one where it began failed: {Error}")]
    public static partial void FirstCheckpointFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.ControlConfigReloaded, LogLevel.Information,
        "configuration reloaded from {File}: {Added} added, {Changed} changed, {Removed} removed, {Unchanged} unchanged{Restart}")]
    public static partial void ConfigReloaded(this ILogger logger, string? file, int added, int changed, int removed, int unchanged, string restart);

    [LoggerMessage(EventIds.ControlConfigReloadRejected, LogLevel.Warning, "configuration reload from {File} rejected; nothing changed")]
    public static partial void ConfigReloadRejected(this ILogger logger, string? file);
}
