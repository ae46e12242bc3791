using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Checkpoints;

/// <summary>The log lines of the Checkpoints room (event ids 2000-2999).</summary>
internal static partial class CheckpointsLog
{
    [LoggerMessage(EventIds.CheckpointHistoryWriteFailed, LogLevel.Warning, "pipeline {Pipeline}: the checkpoint history could not be written (the checkpoint was): {Error}")]
    public static partial void CheckpointHistoryWriteFailed(this ILogger logger, string pipeline, string error);
}
