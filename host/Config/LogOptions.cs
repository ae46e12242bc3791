namespace PluginHost.Config;

/// <summary>Logging: level (trace, debug, info, warn, error) and format (text, json).</summary>
internal sealed class LogOptions
{
    public string Level { get; set; } = "info";
    public string Format { get; set; } = "text";
}
