using Microsoft.Extensions.Logging;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>Routes a plugin's log lines to the host log with the pipeline name.</summary>
internal sealed class PluginLogger(ILogger logger, string pipeline) : IPluginLogger
{
    public void Info(string message) => logger.LogInformation("pipeline {Pipeline}: {Message}", pipeline, message);
    public void Warning(string message) => logger.LogWarning("pipeline {Pipeline}: {Message}", pipeline, message);
    public void Error(string message, Exception? exception = null) => logger.LogError(exception, "pipeline {Pipeline}: {Message}", pipeline, message);
}
