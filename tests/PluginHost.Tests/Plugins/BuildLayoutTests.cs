using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// <c>dotnet build</c> puts every plugin project of the solution into <c>artifacts/plugins/&lt;Folder&gt;/</c> with its
/// .deps.json and dependencies and without PluginHost.Sdk.dll (plugins/Directory.Build.props/.targets), ready to load.
/// The test project references all three plugin projects (Kafka, UserFunctions, Webhook), so building the tests (or
/// the solution) builds and lays out all of them.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BuildLayoutTests
{
    private static string BuiltPlugins => Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins");

    /// <summary>Each plugin of the solution: its folder, main DLL and the NuGet dependencies it must carry.</summary>
    public static TheoryData<string, string, string[]> SolutionPlugins => new()
    {
        { "Kafka", "PluginHost.Plugins.Kafka", ["Confluent.Kafka.dll"] },
        { "UserFunctions", "PluginHost.Plugins.UserFunctions", [] },
        { "Webhook", "PluginHost.Plugins.Webhook", ["RestSharp.dll"] },
    };

    [Theory]
    [MemberData(nameof(SolutionPlugins))]
    public void Each_solution_plugin_is_in_its_folder_with_its_dll_deps_json_and_own_dependencies(string folderName, string assembly, string[] dependencies)
    {
        var folder = Path.Combine(BuiltPlugins, folderName);
        Assert.True(Directory.Exists(folder), $"{folder} is missing: the build did not lay out plugin {folderName}");
        Assert.True(File.Exists(Path.Combine(folder, assembly + ".dll")), $"{folder} has no {assembly}.dll");
        var deps = Path.Combine(folder, assembly + ".deps.json");
        Assert.True(File.Exists(deps), $"{folder} has no {assembly}.deps.json");
        Assert.Equal(Path.Combine(folder, assembly + ".dll"), PluginFolder.FindMainAssembly(folder));
        foreach (var dependency in dependencies)
        {
            Assert.True(File.Exists(Path.Combine(folder, dependency)), $"{folder} lacks its dependency {dependency}");
            // …and its .deps.json names it, so the plugin's load context resolves it from there.
            Assert.Contains($"{dependency}\"", File.ReadAllText(deps));
        }
        Assert.Empty(Directory.GetFiles(folder, "PluginHost.Sdk.*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Each_plugin_has_its_own_folder_with_deps_json_and_no_sdk()
    {
        Assert.Equal(BuiltPlugins, PluginDirectories.BuiltPlugins);
        // Every plugin project of the repository (plugins/NAME/*.csproj) is laid out, and the list above covers them all.
        var projects = Directory.GetDirectories(Path.Combine(RepoPaths.RepoRoot, "plugins"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length > 0).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(projects, SolutionPlugins.Select(row => (string)row[0]).Order(StringComparer.Ordinal));
        Assert.All(projects, name => Assert.True(Directory.Exists(Path.Combine(BuiltPlugins, name!)), $"no built folder for plugin project {name}"));
        var userFunctions = Path.Combine(BuiltPlugins, "UserFunctions");
        Assert.True(File.Exists(Path.Combine(userFunctions, "PluginHost.Plugins.UserFunctions.dll")), $"{userFunctions} has no plugin DLL");
        Assert.True(File.Exists(Path.Combine(userFunctions, "PluginHost.Plugins.UserFunctions.deps.json")));
        foreach (var folder in Directory.GetDirectories(BuiltPlugins))
        {
            Assert.Empty(Directory.GetFiles(folder, "PluginHost.Sdk.*", SearchOption.AllDirectories));
            Assert.NotEmpty(Directory.GetFiles(folder, "*.deps.json"));
            Assert.EndsWith(".dll", PluginFolder.FindMainAssembly(folder));
        }
    }

    [Fact]
    public async Task UserFunctions_loads_from_its_build_folder_as_a_helper_plugin()
    {
        await using var box = new PluginSandbox();
        ThirdPartyPlugins.CopyTo(Path.Combine(BuiltPlugins, "UserFunctions"), box.PluginFolder("UserFunctions"));

        await box.Manager.LoadAllAsync();

        var status = Assert.Single(box.Manager.Plugins);
        Assert.Equal(PluginState.Loaded, status.State);
        Assert.Equal("0.1.0", status.Version);
        Assert.Equal("PluginHost.Plugins.UserFunctions.dll", status.AssemblyFile);
        Assert.Empty(status.SinkTypes);
        Assert.Equal(["PluginHost.Plugins.UserFunctions.UserFunctions"], status.HelperTypes);
        var helper = Assert.Single(box.Manager.Current);
        Assert.NotEmpty(helper.Image);
        Assert.Equal("J********h", PluginLoadingTests.Invoke(helper.Assembly, "PluginHost.Plugins.UserFunctions.UserFunctions", "tObfString", "John Smith"));
        // It is its own copy, not the one this test assembly references.
        Assert.NotSame(typeof(PluginHost.Plugins.UserFunctions.UserFunctions).Assembly, helper.Assembly);
    }

    [Fact]
    public async Task Every_built_plugin_of_the_solution_loads()
    {
        var copy = Path.Combine(Path.GetTempPath(), "pluginhost-builtplugins-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var folder in Directory.GetDirectories(BuiltPlugins))
            ThirdPartyPlugins.CopyTo(folder, Path.Combine(copy, Path.GetFileName(folder)));
        await using var box = new PluginSandbox(directory: copy);
        try
        {
            await box.Manager.LoadAllAsync();
            Assert.NotEmpty(box.Manager.Plugins);
            Assert.All(box.Manager.Plugins, p => Assert.True(p.State == PluginState.Loaded, $"plugin {p.Name}: {p.Error}"));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
