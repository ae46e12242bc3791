namespace PluginHost.Sdk;

/// <summary>A sink setting is invalid; <see cref="Key"/> names it.</summary>
public sealed class SinkConfigurationException : Exception
{
    public SinkConfigurationException(string key, string message) : base($"{key}: {message}") => Key = key;

    /// <summary>The setting at fault, e.g. <c>tasks[0].url</c>.</summary>
    public string Key { get; }
}
