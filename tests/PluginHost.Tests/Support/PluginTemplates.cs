using System.Diagnostics;

namespace PluginHost.Tests.Support;

/// <summary>
/// The <c>dotnet new</c> templates as a plugin author gets them: <c>scripts/pack-sdk.sh</c> packs PluginHost.Sdk and
/// PluginHost.Templates into <c>.local/packages</c> (nothing to do when they are current), the templates are installed
/// from there into a template hive of this test run (<c>--debug:custom-hive</c>, with its own <c>DOTNET_CLI_HOME</c>:
/// the user's templates are not touched), and the projects made from them restore through a <c>nuget.config</c> that
/// adds that folder to the machine's sources (every other package comes from the NuGet cache or the mirror).
/// </summary>
public sealed class PluginTemplates
{
    private static readonly Lazy<Task<PluginTemplates>> Instance = new(() => Task.Run(InstallAsync));

    private PluginTemplates(string root, string hive, string packages)
    {
        Root = root;
        Hive = hive;
        Packages = packages;
    }

    /// <summary>This run's folder: the hive, the CLI home and a <c>nuget.config</c> for the projects made below it.</summary>
    public string Root { get; }
    public string Hive { get; }
    public string Packages { get; }

    /// <summary>Packs (when needed) and installs the templates once per test run.</summary>
    public static Task<PluginTemplates> GetAsync() => Instance.Value;

    private static async Task<PluginTemplates> InstallAsync()
    {
        var repo = RepoPaths.RepoRoot;
        await RunAsync(repo, TimeSpan.FromMinutes(5), null, "bash", "scripts/pack-sdk.sh");
        var packages = Path.Combine(repo, ".local", "packages");
        var package = Directory.GetFiles(packages, "PluginHost.Templates.*.nupkg").Single();
        var root = TestTemp.CreateSubdirectory("pluginhost-templates-").FullName;
        var templates = new PluginTemplates(root, Path.Combine(root, "hive"), packages);
        File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="pluginhost-packages" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        await templates.DotnetAsync(root, TimeSpan.FromMinutes(3), "new", "install", package, "--debug:custom-hive", templates.Hive);
        return templates;
    }

    /// <summary><c>dotnet new TEMPLATE -n NAME</c> in a new folder under <see cref="Root"/>; returns the solution's folder.</summary>
    public async Task<string> NewAsync(string template, string name)
    {
        var output = Path.Combine(Root, name);
        await DotnetAsync(Root, TimeSpan.FromMinutes(2), "new", template, "-n", name, "-o", output, "--debug:custom-hive", Hive);
        return output;
    }

    /// <summary>Runs <c>dotnet ARGS</c> with this run's CLI home; fails with the output when it fails or hangs.</summary>
    public Task<string> DotnetAsync(string workingDirectory, TimeSpan limit, params string[] args) =>
        RunAsync(workingDirectory, limit, new Dictionary<string, string>
        {
            ["DOTNET_CLI_HOME"] = Path.Combine(Root, "home"),
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                                 ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            ["MSBUILDDISABLENODEREUSE"] = "1",
        }, "dotnet", args);

    private static async Task<string> RunAsync(string workingDirectory, TimeSpan limit, IReadOnlyDictionary<string, string>? environment, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        // The test host's own MSBuild settings must not leak into the author's build.
        foreach (var key in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" }) psi.Environment.Remove(key);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {limit}:\n{await stdout}\n{await stderr}");
        }
        var text = await stdout + await stderr;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}) in {workingDirectory}:\n{text}");
        return text;
    }
}
