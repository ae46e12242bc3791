namespace MySink;

/// <summary>The sink's settings: the pipeline's <c>sink:</c> block, snake_case keys (here only <c>path</c>).</summary>
public sealed class MySinkOptions
{
    /// <summary>The file every event is appended to as one JSON line (relative to the config file's folder).</summary>
    public string Path { get; set; } = "";
}
