using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Tests.Api;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// A reload is validated against the pipelines running on a real MariaDB: a new version that cannot create the sink
/// of a running pipeline from its settings, or that drops the sink type a running pipeline uses, is rejected with
/// its error, and the old version goes on delivering.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ReloadValidationTests(MariaDbServer db)
{
    [Fact]
    public async Task New_versions_that_break_a_running_pipeline_are_rejected_and_the_old_one_keeps_delivering()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        db.Sql("DROP DATABASE IF EXISTS plugins_validate; CREATE DATABASE plugins_validate; " +
               "CREATE TABLE plugins_validate.t (id INT PRIMARY KEY);");
        var start = Kit.MasterStatus(db);
        var root = TestTemp.CreateSubdirectory("pluginhost-reloadvalidate-").FullName;
        var folder = Path.Combine(root, "plugins", "testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        var config = ConfigLoader.Parse($$"""
            state_dir: state
            plugins_dir: plugins
            server: { enabled: false }
            pipelines:
              - name: validated
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Kit.NextServerId()}}, start: {{Kit.FileStart(start)}}, ssl: none, heartbeat: 1s }
                filter: { include: ["plugins_validate.*"] }
                sink: { type: testsink, path: out.txt }
            """, Path.Combine(root, "pluginhost.yaml"), new Dictionary<string, string>());
        var outFile = Path.Combine(root, "out.txt");

        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var catalog = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        PipelineManager? pipelines = null;
        await using var plugins = new PluginManager(new PluginManagerOptions
        {
            Directory = config.PluginsDirectory,
            Watch = false,
            ShadowDirectory = Path.Combine(root, "shadow"),
        }, catalog, loggers);
        await plugins.StartAsync(default);
        var factory = catalog.Find("testsink");
        pipelines = new PipelineManager(config, catalog, new FileCheckpointStore(config.StateDirectory), loggers, plugins);
        plugins.Attach(pipelines);
        try
        {
            await pipelines.StartAsync(default);
            db.Sql("INSERT INTO plugins_validate.t VALUES (1);");
            await Wait.UntilAsync(() => Kit.Lines(outFile).Count == 1, TimeSpan.FromSeconds(30), "row 1 from version 1.0.0");

            // 4.0.0 requires a `topic` the running pipeline's sink block does not have.
            ThirdPartyPlugins.CopyTo(built.SinkStrict, folder);
            var status = await plugins.ReloadAsync("testsink");
            Assert.Equal((PluginState.Loaded, "1.0.0", 1), (status!.State, status.Version, status.Loads));
            Assert.Equal("its testsink sink cannot be created for pipeline validated: topic: is required since 4.0.0", status.Error);
            Assert.Same(factory, catalog.Find("testsink"));
            Assert.Contains(logs.Lines, l => l == $"Error PluginHost.Plugins: plugin testsink: the files in {folder} were rejected, version 1.0.0 keeps running: {status.Error}");
            db.Sql("INSERT INTO plugins_validate.t VALUES (2);");
            await Wait.UntilAsync(() => Kit.Lines(outFile).Count == 2, TimeSpan.FromSeconds(30), "row 2 from version 1.0.0");

            // 5.0.0 has sink type testsink2 instead of testsink.
            ThirdPartyPlugins.CopyTo(built.SinkRenamed, folder);
            status = await plugins.ReloadAsync("testsink");
            Assert.Equal((PluginState.Loaded, "1.0.0", 1), (status!.State, status.Version, status.Loads));
            Assert.Equal("the new version no longer has sink type(s) used by running pipeline(s) validated (testsink)", status.Error);
            Assert.Same(factory, catalog.Find("testsink"));
            Assert.Null(catalog.Find("testsink2"));
            db.Sql("INSERT INTO plugins_validate.t VALUES (3);");
            await Wait.UntilAsync(() => Kit.Lines(outFile).Count == 3, TimeSpan.FromSeconds(30), "row 3 from version 1.0.0");

            Assert.Equal(PipelineState.Running, pipelines.Find("validated")!.Status.State);
            var lines = Kit.Lines(outFile).Select(l => l.Split('\t')).ToList();
            Assert.Equal(["1", "2", "3"], lines.Select(l => l[2]));
            Assert.Single(lines.Select(l => l[0]).Distinct());
            Assert.StartsWith("1.0.0/", lines[0][0]);
        }
        finally
        {
            await pipelines.StopAsync(default);
        }
    }
}
