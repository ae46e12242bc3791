namespace PluginHost.Sinks;

/// <summary>Settings of the built-in <c>file</c> sink.</summary>
internal sealed class FileSinkOptions
{
    /// <summary>JSON Lines file to append to (relative to the config file), or <c>-</c> for standard output.</summary>
    public string Path { get; set; } = "";

    /// <summary>fsync on every checkpoint (on by default; off trades durability for speed).</summary>
    public bool Fsync { get; set; } = true;
}
