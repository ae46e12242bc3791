using System.Globalization;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// One real host process with a C# (.csx) and a JavaScript (.js) pipeline, each reading the same table by an initial
/// snapshot while a writer commits multi-row transactions: the scripts are edited on disk three times while the
/// snapshots run (issues 16 and 19 together with hot reload). Every row arrives exactly once in each sink, each event
/// carries exactly one version, a chunk or a transaction never two, and versions only move forward.
/// </summary>
[Collection(MariaDbCollection.Name)] // the first chain: the second one had grown to the longer by about three minutes
[Trait("Category", "Integration")]
public sealed class ScriptReloadDuringSnapshotTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 20_000;
    private const int ChunkSize = 500;
    private const int Versions = 4;

    /// <summary>C# version N: stamps the event with its version and transaction (a snapshot chunk's is <c>snapshot:db.table:N</c>); all but the last sleep a millisecond per event, so the snapshot lasts.</summary>
    private static string CSharp(int version) =>
        $"ChangeEvent Transform(ChangeEvent e) {{ e.Extra[\"ver\"] = {version}; e.Extra[\"tx\"] = e.TransactionId; {(version < Versions ? "System.Threading.Thread.Sleep(1); " : "")}return e; }}\n";

    /// <summary>JavaScript version N: stamps the version (a script sees no transaction id), pacing by a short spin (a script cannot sleep).</summary>
    private static string JavaScript(int version) =>
        $"function transform(event) {{ event.ver = {version}; {(version < Versions ? "const t = Date.now(); while (Date.now() - t < 2) {} " : "")}return event; }}\n";

    [Fact]
    public async Task Csx_and_js_reloads_during_initial_snapshots_switch_at_boundaries_and_every_row_arrives_once()
    {
        var database = "combo_reload_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE live (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{Rows};
            """);
        var dir = TestTemp.CreateSubdirectory("pluginhost-combo-reload-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        var scripts = new Dictionary<string, (string Path, Func<int, string> Text)>
        {
            ["cs"] = (Path.Combine(dir, "transforms", "stamp.csx"), CSharp),
            ["js"] = (Path.Combine(dir, "transforms", "stamp.js"), JavaScript),
        };
        foreach (var (_, s) in scripts) File.WriteAllText(s.Path, s.Text(1));
        string Pipeline(string name, string script) => $$"""
              - name: {{name}}
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Kit.NextServerId()}}, ssl: none, heartbeat: 1s }
                filter: { include: ["{{database}}.*"] }
                snapshot: { mode: initial, chunk_size: {{ChunkSize}}, tables: ["{{database}}.big"] }
                transform: transforms/{{script}}
                batch_size: 200
                in_flight_events: 1000
                sink: { type: file, path: out-{{name}}.jsonl, fsync: false }
            """;
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, $"state_dir: state\nserver: {{ enabled: false }}\npipelines:\n{Pipeline("cs", "stamp.csx")}\n{Pipeline("js", "stamp.js")}\n");
        string Out(string name) => Path.Combine(dir, $"out-{name}.jsonl");

        using var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", config);
        using var writing = new CancellationTokenSource();
        var liveIds = 0;
        // The changes begin once both pipelines stream (they start at "latest": earlier ones are not theirs).
        await Poll.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2 || host.HasExited, TimeSpan.FromSeconds(180),
            () => "both pipelines streaming\n" + host.ReadLog(), 100);
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                var from = liveIds + 1;
                db.Sql($"INSERT INTO live SELECT seq, 'tx' FROM seq_{from}_to_{from + 2};", database); // one transaction, three rows
                liveIds += 3;
                await Task.Delay(150);
            }
        });
        try
        {
            // Reload each script at three points of its snapshot; each time wait until the new version shows.
            var during = new Dictionary<string, int> { ["cs"] = 0, ["js"] = 0 };
            var reloads = scripts.Keys.Select(name => Task.Run(async () =>
            {
                for (var version = 2; version <= Versions; version++)
                {
                    var at = (version - 1) * 3000;
                    await Poll.UntilAsync(() => Kit.Lines(Out(name)).Count >= at || host.HasExited, TimeSpan.FromSeconds(180),
                        () => $"{name}: {at} events; {Kit.Lines(Out(name)).Count} so far\n{host.ReadLog()}", 50);
                    Assert.False(host.HasExited, host.ReadLog());
                    var temp = scripts[name].Path + ".tmp";
                    File.WriteAllText(temp, scripts[name].Text(version));
                    File.Move(temp, scripts[name].Path, overwrite: true); // as editors save
                    var stamp = $"\"ver\":{version}";
                    await Poll.UntilAsync(() => Kit.Lines(Out(name)).Any(l => l.Contains(stamp, StringComparison.Ordinal)), TimeSpan.FromSeconds(120),
                        () => $"{name}: version {version} live\n{host.ReadLog()}", 100);
                    var lines = Kit.Lines(Out(name));
                    if (lines.Count(l => IsBigRead(l)) < Rows) lock (during) during[name]++;
                }
            })).ToList();
            await Task.WhenAll(reloads);
            await Poll.UntilAsync(() => scripts.Keys.All(n => Kit.Lines(Out(n)).Count(l => IsBigRead(l)) >= Rows) || host.HasExited,
                TimeSpan.FromSeconds(240), () => $"both snapshots to end\n{host.ReadLog()}", 100);
            Assert.False(host.HasExited, host.ReadLog());
            await writing.CancelAsync();
            await writer;
            var lastLive = liveIds;
            foreach (var name in scripts.Keys)
                await Poll.UntilAsync(() => Kit.Events(Out(name)).Count(e => e.Table == "live") >= lastLive, TimeSpan.FromSeconds(60),
                    () => $"{name}: {lastLive} live rows\n{host.ReadLog()}", 100);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");

            // The snapshot's chunks, as the C# pipeline saw them (row id → chunk): both pipelines chunk the same table alike
            // (the first chunks are small, then chunk_size), and JavaScript cannot see the chunk of an event.
            var chunkOf = Kit.Events(Out("cs")).Where(e => e.Op == ChangeOperation.Read).ToDictionary(Kit.Id, e => (string)e.Extra["tx"]!);
            Assert.InRange(chunkOf.Values.Distinct().Count(), Rows / ChunkSize, Rows / ChunkSize + 5);
            foreach (var name in scripts.Keys)
            {
                var events = Kit.Events(Out(name));
                var reads = events.Where(e => e.Op == ChangeOperation.Read && e.Table == "big").ToList();
                var live = events.Where(e => e.Table == "live").ToList();
                var versions = events.Select(Version).ToList();
                output.WriteLine($"{name}: {events.Count} events, {reads.Count} reads, {live.Count} live rows; reloads during the snapshot: {during[name]}; " +
                                 $"versions of reads: {string.Join(", ", reads.GroupBy(Version).Select(g => $"v{g.Key}×{g.Count()}"))}");
                // Exactly once: every row of big read once, every row inserted into live (not snapshotted) once.
                Assert.Equal(Enumerable.Range(1, Rows).Select(i => (long)i), reads.Select(Kit.Id).Order());
                Assert.Equal(Enumerable.Range(1, lastLive).Select(i => (long)i), live.Select(Kit.Id).Order());
                Assert.Equal(Rows + lastLive, events.Count);
                // One version per event (none unstamped), per chunk and per transaction; versions only move forward.
                Assert.All(versions, v => Assert.InRange(v, 1, Versions));
                for (var i = 1; i < versions.Count; i++)
                    Assert.True(versions[i - 1] <= versions[i], $"{name}: event {i} ({Kit.Describe(events[i])}) has v{versions[i]} after v{versions[i - 1]}");
                Assert.All(reads.GroupBy(e => chunkOf[Kit.Id(e)]), g => Assert.Single(g.Select(Version).Distinct()));
                Assert.All(live.GroupBy(e => e.Gtid), g => Assert.Single(g.Select(Version).Distinct()));
                Assert.True(reads.Select(Version).Distinct().Count() >= 3, $"{name}: the snapshot's rows carry fewer than 3 versions");
                Assert.True(during[name] >= 2, $"{name}: only {during[name]} reloads landed during the snapshot");
                Assert.Equal(Versions, versions[^1]);
            }
        }
        finally
        {
            await writing.CancelAsync();
            try { await writer; } catch (Exception) { }
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(30)));
        }
    }

    private static bool IsBigRead(string line) =>
        line.StartsWith("{\"op\":\"read\"", StringComparison.Ordinal) && line.Contains("\"table\":\"big\"", StringComparison.Ordinal);

    private static int Version(ChangeEvent e) =>
        e.Extra.TryGetValue("ver", out var v) && v != null ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : 0;
}
