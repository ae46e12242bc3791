namespace PluginHost.Sdk;

/// <summary>Logging for plugins, routed to the host's log with the pipeline and plugin attached.</summary>
public interface IPluginLogger
{
    void Info(string message);
    void Warning(string message);
    void Error(string message, Exception? exception = null);
}
