namespace PluginHost.Plugins;

/// <summary>Where <c>dotnet build</c> puts the repository's plugins (see <c>plugins/Directory.Build.props</c>).</summary>
public static class PluginDirectories
{
    /// <summary>
    /// <c>&lt;repo&gt;/artifacts/plugins</c>: the first <c>artifacts/plugins</c> folder above the host's own folder
    /// (the host runs from <c>host/bin/…</c> or <c>artifacts/host</c>); when none exists, <c>plugins</c> beside the host.
    /// It is the <c>plugins_dir</c> of a configuration that does not set one, and the demo's.
    /// </summary>
    public static string BuiltPlugins
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "artifacts", "plugins");
                if (Directory.Exists(candidate)) return candidate;
            }
            return Path.Combine(AppContext.BaseDirectory, "plugins");
        }
    }
}
