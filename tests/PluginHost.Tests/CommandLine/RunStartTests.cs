using System.Diagnostics;
using PluginHost.Cli;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.CommandLine;

/// <summary>
/// What <c>pluginhost run</c> does as it starts: it does not watch the folders under its working directory (the
/// framework's <c>appsettings.json</c> reload watched the whole tree), and a host none of whose pipelines needs a
/// plugin to start loads its plugins beside its pipelines' start, still listing and hot-reloading them.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RunStartTests(ITestOutputHelper output)
{
    [Fact]
    public void A_host_watches_its_plugins_folder_not_the_folders_under_its_working_directory_and_still_hot_reloads_plugins()
    {
        var root = TestTemp.CreateSubdirectory("pluginhost-runstart-").FullName;
        var work = Directory.CreateDirectory(Path.Combine(root, "work")).FullName;
        for (var i = 0; i < 60; i++) Directory.CreateDirectory(Path.Combine(work, "tree", $"d{i / 10}", $"e{i}"));
        var plugins = Directory.CreateDirectory(Path.Combine(root, "plugins")).FullName;
        CopyDirectory(Path.Combine(PluginDirectories.BuiltPlugins, "UserFunctions"), Path.Combine(plugins, "UserFunctions"));
        var config = Path.Combine(root, "pluginhost.yaml");
        // A file sink and a source nobody listens on: the pipeline keeps reconnecting, the host keeps running.
        File.WriteAllText(config, $$"""
            state_dir: state
            plugins_dir: plugins
            server: { enabled: false }
            pipelines:
              - name: p
                source: { host: 127.0.0.1, port: {{ClosedPort()}}, user: root, password: "", server_id: 4711, ssl: none }
                sink: { type: file, path: out.jsonl }
            """);
        using var host = HostProcess.StartIn(work, Path.Combine(root, "host.log"), "run", "--config", config);
        try
        {
            WaitForLog(host, "watching " + plugins);
            Assert.Contains("plugin UserFunctions 0.1.0 loaded", host.ReadLog());
            var watches = InotifyWatches(host.Id);
            Assert.True(watches < 20, $"the host holds {watches} inotify watches: it watches the 66 folders under its working directory");

            CopyDirectory(Path.Combine(PluginDirectories.BuiltPlugins, "Webhook"), Path.Combine(plugins, "Webhook"));
            WaitForLog(host, "plugin Webhook 0.1.0 loaded");
        }
        finally
        {
            Assert.True(host.Terminate(TimeSpan.FromSeconds(60)));
            output.WriteLine(host.ReadLog());
        }
    }

    [Fact]
    public void Plugins_are_loaded_before_the_start_only_where_something_may_need_them()
    {
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        HostConfig Config(string server, string pipeline) => ConfigLoader.Parse(
            $"state_dir: state\nserver: {server}\npipelines:\n  - name: p\n    source: {{ host: h, user: u, password: \"\", server_id: 5 }}\n{pipeline}\n",
            Path.Combine(Path.GetTempPath(), "pluginhost.yaml"), new Dictionary<string, string>());
        const string NoApi = "{ enabled: false }", FileSink = "    sink: { type: file, path: out.jsonl }";

        Assert.False(RunCommand.PluginsNeededToStart(Config(NoApi, FileSink), sinks));
        Assert.True(RunCommand.PluginsNeededToStart(Config("{ enabled: true }", FileSink), sinks)); // the API lists them
        Assert.True(RunCommand.PluginsNeededToStart(Config(NoApi, "    sink: { type: webhook, url: \"http://localhost:1/\" }"), sinks));
        Assert.True(RunCommand.PluginsNeededToStart(Config(NoApi, FileSink + "\n    transform: t.csx"), sinks)); // its helper functions
        Assert.True(RunCommand.PluginsNeededToStart(Config(NoApi, FileSink + "\n    checkpoint: { type: kafka }"), sinks));
    }

    private static void WaitForLog(HostProcess host, string text)
    {
        var clock = Stopwatch.StartNew();
        while (!host.ReadLog().Contains(text, StringComparison.Ordinal))
        {
            Assert.False(host.HasExited, $"the host exited before logging '{text}':\n{host.ReadLog()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no '{text}' in the log:\n{host.ReadLog()}");
            Thread.Sleep(50);
        }
    }

    /// <summary>The inotify watches a process holds (one <c>inotify wd:</c> line per watch in its descriptors' fdinfo).</summary>
    private static int InotifyWatches(int pid)
    {
        var count = 0;
        foreach (var fdinfo in Directory.GetFiles($"/proc/{pid}/fdinfo"))
        {
            try
            {
                count += File.ReadLines(fdinfo).Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }
        return count;
    }

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
