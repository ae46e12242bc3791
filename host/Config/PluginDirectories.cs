namespace PluginHost.Config;

/// <summary>Where the host finds plugins when a configuration does not say.</summary>
internal static class PluginDirectories
{
    /// <summary>The solution file that marks a source tree the host was built in.</summary>
    public const string SolutionFile = "PluginHost.sln";

    /// <summary>
    /// The plugins shipped or built with the host: <c>plugins</c> beside the host when it exists (an installed host);
    /// otherwise, for a host run from its source tree (<c>host/bin/…</c> or <c>artifacts/host</c>), that tree's
    /// <c>artifacts/plugins</c> — the tree being the nearest folder above the host holding <c>PluginHost.sln</c>, so an
    /// unrelated <c>artifacts/plugins</c> further up the disk is never picked; else <c>plugins</c> beside the host.
    /// It is the <c>plugins_dir</c> of a configuration that does not set one, and the demo's.
    /// </summary>
    public static string BuiltPlugins => Find(AppContext.BaseDirectory);

    /// <summary><see cref="BuiltPlugins"/> for a host in <paramref name="hostDirectory"/>.</summary>
    internal static string Find(string hostDirectory)
    {
        var beside = Path.Combine(hostDirectory, "plugins");
        if (Directory.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(hostDirectory); dir != null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, SolutionFile))) continue;
            var built = Path.Combine(dir.FullName, "artifacts", "plugins");
            return Directory.Exists(built) ? built : beside;
        }
        return beside;
    }
}
