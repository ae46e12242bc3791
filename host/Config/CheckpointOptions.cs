using System.Text.Json;

namespace PluginHost.Config;

/// <summary>Where a pipeline keeps its checkpoint: <c>file</c> (default, under state_dir) or a store a plugin provides.</summary>
internal sealed class CheckpointOptions
{
    public string Type { get; set; } = "file";

    /// <summary>Settings of a non-file store (e.g. kafka), passed through.</summary>
    public Dictionary<string, JsonElement> Settings { get; set; } = [];

    /// <summary>Least time between two <c>saved</c> entries of the checkpoint history (0: every distinct save).</summary>
    public TimeSpan HistoryInterval { get; set; } = TimeSpan.FromSeconds(10);
}
