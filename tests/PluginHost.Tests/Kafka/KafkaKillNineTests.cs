using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// The real <c>pluginhost</c> process (plugins loaded from artifacts/plugins) streams into the mock cluster, which
/// lives in this test process, with its checkpoint in Kafka; it is killed with SIGKILL twice mid-stream and
/// restarted. Every committed change must be in the topic, the first arrival of each in commit order per row, and
/// duplicates within what was in flight at each kill.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class KafkaKillNineTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 6000;
    private const int BatchSize = 500;
    private const int InFlightEvents = 1000;

    [Fact]
    public async Task Kill_minus_nine_of_the_host_loses_nothing_in_kafka()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("kfk_kill.items", 3);
        cluster.CreateTopic("pluginhost.state", 1);
        var dir = TestTemp.CreateSubdirectory("pluginhost-kafka-kill-").FullName;
        db.Sql("DROP DATABASE IF EXISTS kfk_kill; CREATE DATABASE kfk_kill; CREATE TABLE kfk_kill.items (id INT PRIMARY KEY, version INT NOT NULL, payload VARCHAR(64));");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var config = Path.Combine(dir, "pluginhost.yaml");
        var plugins = Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins");
        Assert.True(File.Exists(Path.Combine(plugins, "Kafka", "PluginHost.Plugins.Kafka.dll")), $"the Kafka plugin is not built into {plugins}/Kafka");
        File.WriteAllText(config, $$"""
            state_dir: state
            plugins_dir: {{plugins}}
            server: { enabled: false }
            pipelines:
              - name: kill
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 4343, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["kfk_kill.*"] }
                batch_size: {{BatchSize}}
                in_flight_events: {{InFlightEvents}}
                sink: { type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", create_topics: false }
                checkpoint: { type: kafka, settings: { create_topic: false } }
            """);
        var log = Path.Combine(dir, "host.log");

        // 300 transactions of 100 rows, paced: 6,000 inserts, 22,000 updates (version + 1), 2,000 deletes.
        var expected = new Dictionary<int, List<string>>();
        var go = new TaskCompletionSource();
        var writer = Task.Run(async () =>
        {
            await go.Task;
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            var versions = new int[Rows + 1];
            var inserted = 0;
            var rnd = new Random(11);
            for (var tx = 1; tx <= 300; tx++)
            {
                string sql;
                if (inserted < Rows && (tx % 4 == 1 || inserted < 500))
                {
                    sql = $"INSERT INTO kfk_kill.items VALUES {string.Join(",", Enumerable.Range(inserted + 1, 100).Select(i => $"({i},0,'row {i}')"))}";
                    lock (expected) for (var i = inserted + 1; i <= inserted + 100; i++) expected[i] = ["i0"];
                    inserted += 100;
                }
                else if (tx > 280)
                {
                    var from = (tx - 281) * 100 + 1;
                    sql = $"DELETE FROM kfk_kill.items WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("d");
                }
                else
                {
                    var from = 1 + rnd.Next(Math.Max(1, inserted - 99));
                    sql = $"UPDATE kfk_kill.items SET version = version + 1 WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("u" + ++versions[i]);
                }
                await c.ExecuteAsync(sql);
                await Task.Delay(80); // about 25 s of changes: both kills must land while they are written, restarts included
            }
        });

        var kills = 0;
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            go.SetResult();
            for (var k = 0; k < 2; k++)
            {
                var before = cluster.Count("kfk_kill.items");
                var sw = Stopwatch.StartNew();
                while (cluster.Count("kfk_kill.items") < before + 1500 && sw.Elapsed < TimeSpan.FromSeconds(30) && !host.HasExited) await Task.Delay(100);
                Assert.False(host.HasExited, "the host exited by itself:\n" + host.ReadLog());
                Assert.False(writer.IsCompleted, $"kill {k + 1} must land while changes are still being written");
                host.KillHard();
                kills++;
                output.WriteLine($"kill {kills} after {cluster.Count("kfk_kill.items")} records");
                host.Dispose();
                host = HostProcess.Start(log, "run", "--config", config);
            }
            await writer;
            var total = expected.Values.Sum(v => v.Count);
            var deadline = Stopwatch.StartNew();
            while (DistinctChanges(cluster).Count < total && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(500);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");

            var records = cluster.ReadAll("kfk_kill.items");
            var firsts = new Dictionary<int, List<string>>();
            var seen = new HashSet<string>();
            var duplicates = 0;
            foreach (var r in records.OrderBy(r => r.Partition).ThenBy(r => r.Offset))
            {
                var (id, change) = Parse(r);
                if (!seen.Add($"{id}:{change}")) { duplicates++; continue; }
                if (!firsts.TryGetValue(id, out var list)) firsts[id] = list = [];
                list.Add(change);
            }
            output.WriteLine($"{total} changes, {records.Count} records, {duplicates} duplicates after {kills} kills\n{Tail(host.ReadLog(), 25)}");
            foreach (var (id, changes) in expected)
            {
                Assert.True(firsts.TryGetValue(id, out var got), $"row {id}: nothing arrived");
                Assert.Equal(changes, got);
            }
            // At each kill: what was in flight (the budget, plus the batch that filled it), what was acknowledged but its
            // checkpoint not yet saved (a batch), and the chunk being read.
            Assert.InRange(duplicates, 0, kills * (InFlightEvents + 2 * BatchSize + 1024));
            var state = cluster.ReadAll("pluginhost.state").MaxBy(r => r.Offset)!;
            Assert.Equal("kill", state.Key);
            Assert.True(JsonNode.Parse(state.Value!)!["events_delivered"]!.GetValue<long>() >= total);
        }
        finally
        {
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static (int Id, string Change) Parse(KafkaRecord r)
    {
        var e = JsonNode.Parse(r.Value!)!;
        var op = e["op"]!.GetValue<string>();
        var image = e[op == "delete" ? "before" : "after"]!;
        var id = image["id"]!.GetValue<int>();
        return (id, op switch { "insert" => "i0", "update" => "u" + image["version"]!.GetValue<int>(), _ => "d" });
    }

    private static HashSet<string> DistinctChanges(KafkaMockCluster cluster) =>
        cluster.ReadAll("kfk_kill.items").Select(Parse).Select(p => $"{p.Id}:{p.Change}").ToHashSet();

    private static string Tail(string s, int lines) => string.Join('\n', s.Split('\n').TakeLast(lines));
}
