namespace PluginHost.Config;

/// <summary>One problem in a configuration: which file, which pipeline, which key, what is wrong.</summary>
internal sealed record ConfigError(string File, string? Pipeline, string Key, string Message)
{
    public override string ToString() =>
        Pipeline is null ? $"{File}: {Key}: {Message}" : $"{File}: pipeline '{Pipeline}': {Key}: {Message}";
}
