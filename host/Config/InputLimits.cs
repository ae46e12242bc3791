namespace PluginHost.Config;

/// <summary>
/// Bounds on documents read from outside (configuration file, REST bodies, saved API state, sample events): checked
/// while reading, before any tree is built, so no input can make a parser recurse or allocate without bound.
/// </summary>
internal static class InputLimits
{
    /// <summary>Deepest nesting of mappings/objects and sequences/arrays (the root is level 1).</summary>
    public const int MaxDepth = 64;

    /// <summary>Most values (scalars, mappings, sequences) in one document, YAML aliases counted as expanded.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>Largest configuration file read (REST bodies: the API's own <c>ApiServer.MaxBodyBytes</c>).</summary>
    public const long MaxFileBytes = 4 << 20;

    public static string TooDeep => $"nested deeper than {MaxDepth} levels";

    public static string TooMany => $"more than {MaxNodes:N0} values (YAML aliases counted as expanded)";
}
