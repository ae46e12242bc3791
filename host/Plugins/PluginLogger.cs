using Microsoft.Extensions.Logging;
using PluginHost.Config;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// Routes a plugin's log lines to the host log with the pipeline name. Every line is scrubbed of the pipeline's secrets
/// (<paramref name="secrets"/>) and of URL passwords (always, even with no list), message and exception alike.
/// </summary>
internal sealed class PluginLogger(ILogger logger, string pipeline, IReadOnlyList<string>? secrets = null) : IPluginLogger
{
    private readonly ILogger _logger = new SecretScrubbingLogger(logger, secrets ?? []);

    /// <summary>A plugin logger for <paramref name="definition"/>'s pipeline, scrubbing its secrets (<see cref="Secrets.ValuesOf"/>).</summary>
    public PluginLogger(ILogger logger, PipelineDefinition definition) : this(logger, definition.Name, Secrets.ValuesOf(definition)) { }

    public void Info(string message) => _logger.PluginInfo(pipeline, message);
    public void Warning(string message) => _logger.PluginWarning(pipeline, message);
    public void Error(string message, Exception? exception = null) => _logger.PluginError(exception, pipeline, message);
}
