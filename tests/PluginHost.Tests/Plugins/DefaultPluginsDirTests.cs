using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// A configuration without <c>plugins_dir</c> uses the plugins <c>dotnet build</c> put into <c>artifacts/plugins</c>,
/// wherever the configuration file is; a set <c>plugins_dir</c> is still relative to the file.
/// </summary>
public sealed class DefaultPluginsDirTests
{
    private const string Yaml = """
        state_dir: state
        server: { enabled: false }
        pipelines: []
        """;

    [Fact]
    public async Task A_config_at_the_repository_root_without_plugins_dir_loads_the_built_plugins()
    {
        var config = ConfigLoader.Parse(Yaml, Path.Combine(RepoPaths.RepoRoot, "pluginhost.yaml"), new Dictionary<string, string>());
        Assert.Null(config.Options.PluginsDir);
        Assert.Equal(Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins"), config.PluginsDirectory);

        var shadow = TestTemp.CreateSubdirectory("pluginhost-defaultplugins-").FullName;
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = config.PluginsDirectory, Watch = false, ShadowDirectory = shadow },
            PluginHostServiceCollectionExtensions.CreateSinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync();

        foreach (var name in new[] { "Kafka", "UserFunctions", "Webhook" })
        {
            var status = plugins.Find(name);
            Assert.True(status is { State: PluginState.Loaded }, $"plugin {name} under {config.PluginsDirectory}: {status?.State.ToString() ?? "not found"} {status?.Error}");
        }
        Assert.Equal(["kafka"], plugins.Find("Kafka")!.SinkTypes);
        Assert.Equal(["webhook"], plugins.Find("Webhook")!.SinkTypes);
        Assert.Equal(["PluginHost.Plugins.UserFunctions.UserFunctions"], plugins.Find("UserFunctions")!.HelperTypes);
    }

    [Fact]
    public void Without_plugins_dir_a_config_elsewhere_uses_the_built_plugins_too_and_a_set_one_is_relative_to_the_file()
    {
        var elsewhere = Path.Combine(Path.GetTempPath(), "pluginhost-config-" + Guid.NewGuid().ToString("N")[..8], "pluginhost.yaml");
        var unset = ConfigLoader.Parse(Yaml, elsewhere, new Dictionary<string, string>());
        Assert.Equal(PluginDirectories.BuiltPlugins, unset.PluginsDirectory);

        var set = ConfigLoader.Parse("plugins_dir: plugins\n" + Yaml, elsewhere, new Dictionary<string, string>());
        Assert.Equal(Path.Combine(Path.GetDirectoryName(elsewhere)!, "plugins"), set.PluginsDirectory);
    }

    [Fact]
    public void The_default_is_plugins_beside_an_installed_host_or_the_source_tree_artifacts_never_an_unrelated_folder_above()
    {
        var root = TestTemp.CreateSubdirectory("pluginhost-pluginsdirs-").FullName;
        string Dir(params string[] parts) => Directory.CreateDirectory(Path.Combine([root, .. parts])).FullName;

        // Installed: plugins beside the host win, even inside a source tree.
        var installed = Dir("opt", "pluginhost");
        Assert.Equal(Dir("opt", "pluginhost", "plugins"), PluginDirectories.Find(installed));

        // Run from a source tree (host/bin/… or artifacts/host): the tree's artifacts/plugins.
        File.WriteAllText(Path.Combine(Dir("src"), PluginDirectories.SolutionFile), "");
        var built = Dir("src", "artifacts", "plugins");
        Assert.Equal(built, PluginDirectories.Find(Dir("src", "host", "bin", "Release", "net10.0")));
        Assert.Equal(built, PluginDirectories.Find(Dir("src", "artifacts", "host")));

        // An artifacts/plugins further up that belongs to no source tree of the host is never used.
        Dir("artifacts", "plugins");
        var app = Dir("apps", "cdc");
        Assert.Equal(Path.Combine(app, "plugins"), PluginDirectories.Find(app));
        // Nor one above a source tree that has not built its plugins yet.
        File.WriteAllText(Path.Combine(Dir("apps", "tree"), PluginDirectories.SolutionFile), "");
        var unbuilt = Dir("apps", "tree", "host", "bin");
        Assert.Equal(Path.Combine(unbuilt, "plugins"), PluginDirectories.Find(unbuilt));
    }
}
