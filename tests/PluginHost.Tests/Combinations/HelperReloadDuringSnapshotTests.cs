using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// One real host process with a JavaScript pipeline of prensio rules and a C# pipeline, both calling a helper plugin's
/// function, both reading a table by an initial snapshot; the helper plugin is replaced by its next version while the
/// snapshots run (issues 16, 19 and plugin hot reload together). Both scripts are recompiled against the new helper and
/// switch at a boundary: every row arrives once, each chunk and each transaction was stamped by one helper version,
/// versions only move forward, and the new version is in force at the end.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HelperReloadDuringSnapshotTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 12_000;
    private const int ChunkSize = 400;

    [Fact]
    public async Task A_helper_plugin_reloaded_during_snapshots_reaches_the_js_rules_and_the_csx_at_boundaries()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        var database = "combo_helper_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE live (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{Rows};
            """);
        var dir = TestTemp.CreateSubdirectory("pluginhost-combo-helper-").FullName;
        var pluginFolder = Path.Combine(dir, "plugins", "testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, pluginFolder);
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        // Both stamp the helper's library version; both pace the snapshot (a millisecond per event) so the reload lands in it.
        File.WriteAllText(Path.Combine(dir, "transforms", "stamp.csx"),
            "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"lib\"] = tLibVersion(); e.Extra[\"tx\"] = e.TransactionId; System.Threading.Thread.Sleep(1); return e; }\n");
        File.WriteAllText(Path.Combine(dir, "transforms", "stamp.js"),
            "function transform(cdc_event) { cdc_event.lib = tLibVersion(); const t = Date.now(); while (Date.now() - t < 2) {} return ACTION_CONT; }\n");
        string Pipeline(string name, string transform) => $$"""
              - name: {{name}}
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Kit.NextServerId()}}, ssl: none, heartbeat: 1s }
                filter: { include: ["{{database}}.*"] }
                snapshot: { mode: initial, chunk_size: {{ChunkSize}}, tables: ["{{database}}.big"] }
                transform: {{transform}}
                batch_size: 200
                in_flight_events: 800
                sink: { type: file, path: out-{{name}}.jsonl, fsync: false }
            """;
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, $"state_dir: state\nplugins_dir: plugins\nserver: {{ enabled: false }}\npipelines:\n" +
                                  Pipeline("cs", "transforms/stamp.csx") + "\n" +
                                  Pipeline("js", "{ rules: [ { name: stamp, match_schema: \"^" + database + "$\", file: transforms/stamp.js } ] }") + "\n");
        string Out(string name) => Path.Combine(dir, $"out-{name}.jsonl");
        var names = new[] { "cs", "js" };

        using var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", config);
        var liveIds = 0;
        try
        {
            await Poll.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2 || host.HasExited, TimeSpan.FromSeconds(180),
                () => "both pipelines streaming\n" + host.ReadLog(), 100);
            await Poll.UntilAsync(() => names.All(n => Kit.Lines(Out(n)).Count >= 2000) || host.HasExited, TimeSpan.FromSeconds(180),
                () => $"2000 events in each sink: {string.Join(", ", names.Select(n => Kit.Lines(Out(n)).Count))}\n{host.ReadLog()}", 50);
            Assert.False(host.HasExited, host.ReadLog());
            for (var i = 0; i < 5; i++, liveIds += 3) db.Sql($"INSERT INTO live SELECT seq, 'v1' FROM seq_{liveIds + 1}_to_{liveIds + 3};", database); // three rows a transaction
            ThirdPartyPlugins.CopyTo(built.SinkV2, pluginFolder); // the next version of the helper, copied over the running one
            await Poll.UntilAsync(() => names.All(n => Kit.Lines(Out(n)).Any(l => l.Contains("\"lib\":\"2.0.0\"", StringComparison.Ordinal))) || host.HasExited,
                TimeSpan.FromSeconds(180), () => $"helper 2.0.0 in both sinks\n{host.ReadLog()}", 100);
            var readWhenSwitched = names.ToDictionary(n => n, n => Kit.Events(Out(n)).Count(e => e.Table == "big"));
            for (var i = 0; i < 5; i++, liveIds += 3) db.Sql($"INSERT INTO live SELECT seq, 'v2' FROM seq_{liveIds + 1}_to_{liveIds + 3};", database); // three rows a transaction
            await Poll.UntilAsync(() => names.All(n => Kit.Events(Out(n)) is var e && e.Count(x => x.Table == "big") >= Rows && e.Count(x => x.Table == "live") >= liveIds) || host.HasExited,
                TimeSpan.FromSeconds(240), () => $"every row in each sink\n{host.ReadLog()}", 200);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");

            // The snapshot's chunks, as the C# pipeline saw them (row id → chunk): both pipelines chunk the same table alike
            // (the first chunks are small, then chunk_size), and a prensio rule cannot see the chunk of an event.
            var chunkOf = Kit.Events(Out("cs")).Where(e => e.Table == "big").ToDictionary(Kit.Id, e => (string)e.Extra["tx"]!);
            Assert.InRange(chunkOf.Values.Distinct().Count(), Rows / ChunkSize, Rows / ChunkSize + 5);
            foreach (var name in names)
            {
                var events = Kit.Events(Out(name));
                var big = events.Where(e => e.Table == "big").ToList();
                var live = events.Where(e => e.Table == "live").ToList();
                var libs = events.Select(Lib).ToList();
                output.WriteLine($"{name}: {big.Count} rows, {live.Count} live; helper 2.0.0 first seen after {readWhenSwitched[name]} rows; " +
                                 string.Join(", ", big.GroupBy(Lib).Select(g => $"{g.Key}×{g.Count()}")));
                Assert.True(readWhenSwitched[name] < Rows, $"{name}: the helper switched only after the snapshot");
                Assert.Equal(Enumerable.Range(1, Rows).Select(i => (long)i), big.Select(Kit.Id).Order());
                Assert.Equal(Enumerable.Range(1, liveIds).Select(i => (long)i), live.Select(Kit.Id).Order());
                Assert.All(libs, l => Assert.Contains(l, new[] { "1.0.0", "2.0.0" }));
                var first2 = libs.IndexOf("2.0.0");
                Assert.True(first2 > 0, $"{name}: no event stamped by 1.0.0 before 2.0.0");
                Assert.DoesNotContain("1.0.0", libs.Skip(first2)); // never back to the old version
                Assert.All(big.GroupBy(e => chunkOf[Kit.Id(e)]), g => Assert.Single(g.Select(Lib).Distinct()));
                Assert.All(live.GroupBy(e => e.Gtid), g => Assert.Single(g.Select(Lib).Distinct()));
                Assert.Equal("2.0.0", libs[^1]);
            }
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(30)));
        }
    }

    private static string Lib(ChangeEvent e) => e.Extra.TryGetValue("lib", out var v) ? v?.ToString() ?? "null" : "none";
}
