using System.Diagnostics;

namespace PluginHost.Plugins;

/// <summary>The native-library copies of plugins (<see cref="PluginManagerOptions.ShadowDirectory"/>), one folder per host process and load.</summary>
internal static class ShadowCopies
{
    /// <summary>Deletes the copies left by host processes that are gone (folders named <c>PID-…</c>).</summary>
    public static void CleanStale(string shadowDirectory)
    {
        if (!Directory.Exists(shadowDirectory)) return;
        foreach (var dir in Directory.GetDirectories(shadowDirectory))
        {
            var name = Path.GetFileName(dir);
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                using var p = Process.GetProcessById(pid);
                continue; // still running
            }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
