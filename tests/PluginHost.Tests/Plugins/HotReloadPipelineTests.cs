using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Plugins;

/// <summary>Hot reload of a sink plugin under a pipeline streaming from a real MariaDB.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HotReloadPipelineTests(MariaDbServer db, ITestOutputHelper output)
{
    [Fact]
    public async Task Replacing_the_plugin_while_rows_stream_delivers_every_row_exactly_once_in_order()
    {
        const int transactions = 120, rowsPerTransaction = 5, replacements = 5;
        var built = await ThirdPartyPlugins.GetAsync();
        db.Sql("DROP DATABASE IF EXISTS plugins_reload; CREATE DATABASE plugins_reload; " +
               "CREATE TABLE plugins_reload.t (id INT PRIMARY KEY, v VARCHAR(20));");
        var start = Kit.MasterStatus(db);

        var root = Path.Combine(Path.GetTempPath(), "pluginhost-reloadpipe-" + Guid.NewGuid().ToString("N")[..8]);
        // The sinks record write/flush/dispose here, and the test records each version's context unloading.
        var slot = "pluginhost-test-sinklog-" + Guid.NewGuid().ToString("N");
        var log = new ConcurrentQueue<string>();
        AppDomain.CurrentDomain.SetData(slot, log);
        var contexts = new List<(string LoadId, WeakReference Context)>();
        Directory.CreateDirectory(root);
        ThirdPartyPlugins.CopyTo(built.SinkV1, Path.Combine(root, "plugins", "testsink"));
        var config = ConfigLoader.Parse($$"""
            state_dir: state
            plugins_dir: plugins
            server: { enabled: false }
            pipelines:
              - name: reload
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Kit.NextServerId()}}, start: {{Kit.FileStart(start)}}, ssl: none, heartbeat: 1s }
                filter: { include: ["plugins_reload.*"] }
                sink: { type: testsink, path: out.txt, log: {{slot}} }
            """, Path.Combine(root, "pluginhost.yaml"), new Dictionary<string, string>());
        var outFile = Path.Combine(root, "out.txt");

        using var loggers = LoggerFactory.Create(b => b.AddProvider(new RecordingLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));
        var catalog = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        PipelineManager? pipelines = null;
        var plugins = new PluginManager(new PluginManagerOptions
        {
            Directory = config.PluginsDirectory,
            DebounceDelay = TimeSpan.FromMilliseconds(200),
            ShadowDirectory = Path.Combine(root, "shadow"),
        }, catalog, loggers);
        try
        {
            await plugins.StartAsync(default);
            Assert.Equal(PluginState.Loaded, plugins.Find("testsink")!.State);
            contexts.Add(TrackUnload(catalog, log));
            pipelines = new PipelineManager(config, catalog, new FileCheckpointStore(config.StateDirectory), loggers, plugins,
                clientTuning: new BinlogClientTuning(o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(50) }));
            plugins.Attach(pipelines);
            await pipelines.StartAsync(default);

            // ~6 s of transactions of 5 rows each, from an independent client.
            var script = new StringBuilder();
            for (var t = 0; t < transactions; t++)
            {
                script.Append("BEGIN;");
                for (var r = 1; r <= rowsPerTransaction; r++)
                    script.Append($"INSERT INTO plugins_reload.t VALUES ({t * rowsPerTransaction + r}, 'row');");
                script.Append("COMMIT; DO SLEEP(0.05);\n");
            }
            var writer = Task.Run(() => db.Sql(script.ToString()));

            // The first version delivers before anything is replaced (on a loaded machine the start can take a while).
            await Wait.UntilAsync(() => Kit.Lines(outFile).Count > 0, TimeSpan.FromSeconds(30), "the first rows, from version 1.0.0");
            // Meanwhile replace the plugin's files several times: 2.0.0, 1.0.0, 2.0.0, …
            for (var i = 0; i < replacements; i++)
            {
                await Task.Delay(500);
                var loads = plugins.Find("testsink")!.Loads;
                ThirdPartyPlugins.CopyTo(i % 2 == 0 ? built.SinkV2 : built.SinkV1, Path.Combine(root, "plugins", "testsink"));
                await Wait.UntilAsync(() => plugins.Find("testsink")!.Loads == loads + 1, TimeSpan.FromSeconds(10), $"replacement {i + 1} to load");
                contexts.Add(TrackUnload(catalog, log));
                Assert.Null(plugins.Find("testsink")!.Error);
            }
            // A broken version mid-stream is rejected; the last good one goes on delivering.
            var good = plugins.Find("testsink")!;
            ThirdPartyPlugins.CopyTo(built.SinkBroken, Path.Combine(root, "plugins", "testsink"));
            await Wait.UntilAsync(() => plugins.Find("testsink")!.Error != null, TimeSpan.FromSeconds(10), "the broken version to be rejected");
            Assert.Contains("threw in its constructor", plugins.Find("testsink")!.Error);
            Assert.Equal((good.Version, good.Loads, PluginState.Loaded), (plugins.Find("testsink")!.Version, plugins.Find("testsink")!.Loads, plugins.Find("testsink")!.State));
            await writer.WaitAsync(TimeSpan.FromSeconds(60));
            const int total = transactions * rowsPerTransaction;
            await Wait.UntilAsync(() => Kit.Lines(outFile).Count >= total, TimeSpan.FromSeconds(20), $"{total} rows in {outFile}");
            // While the pipeline still runs, every replaced version's context is unloaded and collected: the
            // pipeline switched away from it and nothing else holds it.
            Assert.True(UnloadTests.CollectUntil(() => plugins.Find("testsink")!.PendingUnloads == 0),
                $"old plugin contexts still alive: {string.Join(", ", plugins.PendingUnloadDetails())}");
            Assert.All(contexts.SkipLast(1), c => Assert.False(c.Context.IsAlive, $"the context of load {c.LoadId} was not collected"));
            Assert.True(contexts[^1].Context.IsAlive, "the running version's context must stay");
            Assert.Equal(PipelineState.Running, pipelines.Find("reload")!.Status.State);
            await pipelines.StopAsync(default);
            Assert.Equal(PipelineState.Stopped, pipelines.Find("reload")!.Status.State);

            var lines = File.ReadAllLines(outFile).Select(l => l.Split('\t')).ToList();
            // Every row exactly once, in commit order.
            Assert.Equal(Enumerable.Range(1, total).Select(i => i.ToString()), lines.Select(l => l[2]));
            Assert.All(lines, l => Assert.Equal("t", l[1]));
            // A transaction is written by one version only.
            for (var t = 0; t < transactions; t++)
                Assert.Single(lines.Skip(t * rowsPerTransaction).Take(rowsPerTransaction).Select(l => l[0]).Distinct());
            // Versions follow each other: each load wrote one contiguous stretch, and never again after the next took over.
            var runs = new List<string>();
            foreach (var tag in lines.Select(l => l[0]))
                if (runs.Count == 0 || runs[^1] != tag) runs.Add(tag);
            output.WriteLine("versions in order: " + string.Join(" → ", runs));
            Assert.Equal(runs.Count, runs.Distinct().Count());
            Assert.True(runs.Count >= 3, $"expected the stream to switch versions mid-way, got {string.Join(" → ", runs)}");
            Assert.StartsWith("1.0.0/", runs[0]);
            foreach (var tag in runs)
            {
                var parts = tag.Split('/');
                Assert.Equal(parts[0], parts[2]); // each version with its own copy of ThirdParty.Lib
            }
            for (var i = 1; i < runs.Count; i++) Assert.NotEqual(runs[i - 1].Split('/')[0], runs[i].Split('/')[0]);

            // The order at each switch: the old sink's last flush completed (acknowledged), then it was disposed with
            // nothing left in its buffer, then the new sink got its first events, and only after the old sink's
            // disposal was its context unloaded (and, above, collected).
            var entries = log.ToArray();
            output.WriteLine($"{entries.Length} sink log entries; unloads: {string.Join(", ", entries.Where(e => e.StartsWith("unload ")))}");
            Assert.Equal(contexts.Count - 1, entries.Count(e => e.StartsWith("unload ", StringComparison.Ordinal)));
            for (var i = 0; i < runs.Count - 1; i++)
            {
                var (old, next) = (runs[i], runs[i + 1]);
                var loadId = old.Split('/')[1];
                int Last(string prefix) => Array.FindLastIndex(entries, e => e.StartsWith(prefix, StringComparison.Ordinal));
                int First(string prefix) => Array.FindIndex(entries, e => e.StartsWith(prefix, StringComparison.Ordinal));
                var lastWrite = Last($"write {old} ");
                var lastFlush = Last($"flushed {old} ");
                var dispose = First($"dispose {old} ");
                var firstNewWrite = First($"write {next} ");
                var unload = First($"unload {loadId}");
                Assert.True(lastWrite >= 0 && lastWrite < lastFlush, $"{old}: its last write ({lastWrite}) must be flushed ({lastFlush})");
                Assert.True(lastFlush < dispose, $"{old}: flushed ({lastFlush}) before disposed ({dispose})");
                Assert.Equal($"dispose {old} 0", entries[dispose]);
                Assert.Single(entries, e => e.StartsWith($"dispose {old} ", StringComparison.Ordinal));
                Assert.True(dispose < firstNewWrite, $"{old} → {next}: the old sink disposed ({dispose}) before the new one got events ({firstNewWrite})");
                Assert.True(dispose < unload, $"{old}: disposed ({dispose}) before its context unloaded ({unload})");
                Assert.DoesNotContain(entries.Skip(dispose + 1), e => e.Contains($" {old} ", StringComparison.Ordinal));
            }

        }
        finally
        {
            if (pipelines != null) await pipelines.StopAsync(default);
            await plugins.DisposeAsync();
            AppDomain.CurrentDomain.SetData(slot, null);
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Records <c>unload LOADID</c> in <paramref name="log"/> when the context of the running <c>testsink</c> version
    /// starts unloading; returns its load id and a weak reference to the context (holding nothing else).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (string LoadId, WeakReference Context) TrackUnload(SinkCatalog catalog, ConcurrentQueue<string> log)
    {
        var type = catalog.Find("testsink")!.GetType();
        var loadId = (string)type.GetField("LoadId")!.GetValue(null)!;
        var context = AssemblyLoadContext.GetLoadContext(type.Assembly)!;
        context.Unloading += _ => log.Enqueue($"unload {loadId}");
        return (loadId, new WeakReference(context));
    }
}
