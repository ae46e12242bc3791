using System.Diagnostics;
using System.Text.Json;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.CommandLine;

/// <summary>
/// <c>bash scripts/run.sh ARGS</c> as the README has users type it: it builds what a run needs — every project of the
/// solution but those under <c>tests/</c>, through the solution filter it writes into <c>.local/run.slnf</c> — and runs
/// <c>pluginhost ARGS</c> from the caller's folder, so relative paths work as typed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RunScriptTests
{
    [Fact]
    public async Task Run_sh_builds_the_host_and_plugins_only_and_runs_pluginhost_from_the_callers_folder()
    {
        var here = TestTemp.CreateSubdirectory("pluginhost-run-sh-").FullName;
        await File.WriteAllTextAsync(Path.Combine(here, "mine.csx"), "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"from_here\"] = 1; return e; }\n");
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.RepoRoot, "scripts", "run.sh"), "check", "mine.csx"])
            { WorkingDirectory = here, RedirectStandardOutput = true, RedirectStandardError = true };
        using var run = Process.Start(psi)!;
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await run.WaitForExitAsync(guard.Token);
        var output = await stdout + await stderr;
        Assert.True(run.ExitCode == 0, output);
        Assert.Contains("mine.csx: compiled", output); // the relative path, found in the caller's folder
        Assert.Contains("\"from_here\":1", output);

        // The solution filter: the host, the sdk and the plugins; nothing under tests/.
        using var filter = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, ".local", "run.slnf")));
        var solution = filter.RootElement.GetProperty("solution");
        Assert.Equal("../PluginHost.sln", solution.GetProperty("path").GetString());
        var projects = solution.GetProperty("projects").EnumerateArray().Select(p => p.GetString()!.Replace('\\', '/')).ToList();
        Assert.Contains("host/PluginHost.csproj", projects);
        Assert.Contains("plugins/Webhook/PluginHost.Plugins.Webhook.csproj", projects);
        Assert.Contains("plugins/UserFunctions/PluginHost.Plugins.UserFunctions.csproj", projects);
        Assert.DoesNotContain(projects, p => p.StartsWith("tests/", StringComparison.Ordinal));
    }
}
