using System.Diagnostics;

namespace PluginHost.Tests.Support;

/// <summary>Prometheus's own checker (<c>promtool</c>, Debian package prometheus) run on an exposition text.</summary>
internal static class Promtool
{
    /// <summary><c>promtool check metrics</c> with <paramref name="text"/> on its input: exit code and output.</summary>
    public static async Task<(int Code, string Output)> CheckMetricsAsync(string text)
    {
        var psi = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"promtool not found ({e.Message}): run scripts/setup.sh (Debian package prometheus)", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.StandardInput.WriteAsync(text);
            p.StandardInput.Close();
            await p.WaitForExitAsync();
            return (p.ExitCode, await stdout + await stderr);
        }
    }
}
