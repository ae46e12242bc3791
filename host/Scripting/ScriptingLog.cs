using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Scripting;

/// <summary>The log lines of the Scripting room (event ids 3000-3999).</summary>
internal static partial class ScriptingLog
{
    [LoggerMessage(EventIds.TransformCannotWatch, LogLevel.Error, "pipeline {Pipeline}: cannot watch {Script} for changes ({Error}); it will not be reloaded")]
    public static partial void TransformCannotWatch(this ILogger logger, string pipeline, string script, string error);

    [LoggerMessage(EventIds.TransformBackToRunningVersion, LogLevel.Information,
        "pipeline {Pipeline}: transform {Script} is back to the running version {Version} ({Reason}); the earlier errors are gone")]
    public static partial void TransformBackToRunningVersion(this ILogger logger, string pipeline, string script, string version, string reason);

    [LoggerMessage(EventIds.TransformLoaded, LogLevel.Information, "pipeline {Pipeline}: transform {Script} {How} as {Version} in {Ms} ms ({Reason}){Warnings}")]
    public static partial void TransformLoaded(this ILogger logger, string pipeline, string script, string how, string version, long ms, string reason, string warnings);

    [LoggerMessage(EventIds.TransformDoesNotCompile, LogLevel.Error, "pipeline {Pipeline}: transform {Script} does not compile ({Reason}); {Keeps}:\n{Diagnostics}")]
    public static partial void TransformDoesNotCompile(this ILogger logger, string pipeline, string script, string reason, string keeps, string? diagnostics);

    [LoggerMessage(EventIds.TransformReloadListenerFailed, LogLevel.Warning, "pipeline {Pipeline}: a reload listener failed: {Error}")]
    public static partial void TransformReloadListenerFailed(this ILogger logger, string pipeline, string error);

    [LoggerMessage(EventIds.TransformReloadFailed, LogLevel.Error, "pipeline {Pipeline}: reloading transform {Script} failed ({Reason}): {Error}")]
    public static partial void TransformReloadFailed(this ILogger logger, Exception exception, string pipeline, string script, string reason, string error);

    [LoggerMessage(EventIds.TransformVersionUnloaded, LogLevel.Debug, "pipeline {Pipeline}: transform version {Version} unloaded")]
    public static partial void TransformVersionUnloaded(this ILogger logger, string pipeline, string version);

    [LoggerMessage(EventIds.TransformStuck, LogLevel.Error, "pipeline {Pipeline}: {Message}")]
    public static partial void TransformStuck(this ILogger logger, string pipeline, string message);

    [LoggerMessage(EventIds.TransformStuckCallReturned, LogLevel.Warning, "pipeline {Pipeline}: the stuck transform call returned; the event fails with a timeout")]
    public static partial void TransformStuckCallReturned(this ILogger logger, string pipeline);
}
