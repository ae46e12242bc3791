using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// <c>exactly_once: true</c> across kill -9: the real <c>pluginhost</c> process streams a paced stream of changes from
/// the real MariaDB into the mock cluster (in this process), with its checkpoint in Kafka; it is killed with SIGKILL
/// twice mid-stream and restarted. What a read_committed consumer of a real broker gets is read from the log itself
/// (<see cref="KafkaLogReader"/>: the mock writes commit markers but shows aborted and never-ended transactions to
/// read_committed consumers): every change exactly once, in commit order per row.
/// </summary>
[Collection(ThirdMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class KafkaExactlyOnceKillNineTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 6000;
    private const int Partitions = 3;

    [Fact]
    public async Task Kill_minus_nine_with_exactly_once_leaves_each_change_committed_once()
    {
        var t0 = Stopwatch.StartNew();
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("kfk_eos.items", Partitions);
        cluster.CreateTopic("pluginhost.state", 1);
        var dir = TestTemp.CreateSubdirectory("pluginhost-kafka-eos-").FullName;
        db.Sql("DROP DATABASE IF EXISTS kfk_eos; CREATE DATABASE kfk_eos; CREATE TABLE kfk_eos.items (id INT PRIMARY KEY, version INT NOT NULL, payload VARCHAR(64));");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var config = Path.Combine(dir, "pluginhost.yaml");
        var plugins = Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins");
        Assert.True(File.Exists(Path.Combine(plugins, "Kafka", "PluginHost.Plugins.Kafka.dll")), $"the Kafka plugin is not built into {plugins}/Kafka");
        File.WriteAllText(config, $$"""
            state_dir: state
            plugins_dir: {{plugins}}
            server: { enabled: false }
            pipelines:
              - name: eos
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 4344, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["kfk_eos.*"] }
                batch_size: 300
                in_flight_events: 1000
                sink: { type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", create_topics: false, exactly_once: true, commit_interval: 100ms }
                checkpoint: { type: kafka, settings: { create_topic: false } }
            """);
        var log = Path.Combine(dir, "host.log");

        // 150 transactions of 100 rows, paced over about 25 s: about 3,800 inserts, 10,200 updates (version + 1), 1,000 deletes.
        var expected = new Dictionary<int, List<string>>();
        var go = new TaskCompletionSource();
        var writer = Task.Run(async () =>
        {
            await go.Task;
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            var versions = new int[Rows + 1];
            var inserted = 0;
            var rnd = new Random(13);
            for (var tx = 1; tx <= 150; tx++)
            {
                string sql;
                if (inserted < Rows && (tx % 4 == 1 || inserted < 500))
                {
                    sql = $"INSERT INTO kfk_eos.items VALUES {string.Join(",", Enumerable.Range(inserted + 1, 100).Select(i => $"({i},0,'row {i}')"))}";
                    lock (expected) for (var i = inserted + 1; i <= inserted + 100; i++) expected[i] = ["i0"];
                    inserted += 100;
                }
                else if (tx > 140)
                {
                    var from = (tx - 141) * 100 + 1;
                    sql = $"DELETE FROM kfk_eos.items WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("d");
                }
                else
                {
                    var from = 1 + rnd.Next(Math.Max(1, inserted - 99));
                    sql = $"UPDATE kfk_eos.items SET version = version + 1 WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("u" + ++versions[i]);
                }
                await c.ExecuteAsync(sql);
                await Task.Delay(160);
            }
        });

        var kills = 0;
        var resumedFromOpen = new HashSet<long>(); // producers whose never-ended transaction held the checkpoint a restart read (see below)
        HostProcess? host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            go.SetResult();
            for (var k = 0; k < 2; k++)
            {
                var before = cluster.Count("kfk_eos.items");
                var sw = Stopwatch.StartNew();
                while (cluster.Count("kfk_eos.items") < before + 1500 && sw.Elapsed < TimeSpan.FromSeconds(30) && !host!.HasExited) await Task.Delay(100);
                Assert.False(host!.HasExited, "the host exited by itself:\n" + host.ReadLog());
                Assert.False(writer.IsCompleted, $"kill {k + 1} must land while changes are still being written ({cluster.Count("kfk_eos.items")} records):\n" + Tail(host.ReadLog(), 30));
                host.KillHard();
                kills++;
                host.Dispose();
                host = null;
                // The restart reads the newest checkpoint record the mock shows. When the kill landed inside a commit (the
                // checkpoint record written, the commit marker not yet), that record is in a transaction never ended: a
                // real broker would abort it and hide it, and the restart would resume from the one before. On the mock
                // the restart resumes from it, so that transaction counts as committed for this run (logged).
                var state = KafkaLogReader.Read(cluster.BootstrapServers, "pluginhost.state", 0);
                var lastCheckpoint = state.Last(e => e.Control is null);
                var committedState = KafkaLogReader.Committed(state);
                if (committedState.Count == 0 || committedState[^1].Offset != lastCheckpoint.Offset)
                {
                    resumedFromOpen.Add(lastCheckpoint.ProducerId);
                    output.WriteLine($"kill {kills}: the newest checkpoint record (offset {lastCheckpoint.Offset}) is in a transaction the kill left open; the mock shows it, so the restart resumes from it");
                }
                output.WriteLine($"{t0.Elapsed.TotalSeconds:0.0} s: kill {kills} after {cluster.Count("kfk_eos.items")} records in the log");
                host = HostProcess.Start(log, "run", "--config", config);
            }
            await writer;
            output.WriteLine($"{t0.Elapsed.TotalSeconds:0.0} s: the writer is done");
            var total = expected.Values.Sum(v => v.Count);
            var deadline = Stopwatch.StartNew();
            // Wait on the small checkpoint topic first (reading and parsing every record of the items each time is costly),
            // then on the items themselves.
            while (deadline.Elapsed < TimeSpan.FromSeconds(60) && !Delivered(cluster, total)) await Task.Delay(500);
            while (CommittedChanges(cluster, resumedFromOpen).Count < total && deadline.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(2000);
            output.WriteLine($"{t0.Elapsed.TotalSeconds:0.0} s: every change committed");
            Assert.True(host!.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");
            output.WriteLine($"{t0.Elapsed.TotalSeconds:0.0} s: the host stopped");

            var committed = CommittedChanges(cluster, resumedFromOpen);
            var shown = cluster.ReadAll("kfk_eos.items").Count; // what the mock shows a read_committed consumer (everything)
            output.WriteLine($"{total} changes; {committed.Count} committed records; {shown} records shown by the mock (the rest in transactions aborted or left open by a kill); {kills} kills\n{Tail(host.ReadLog(), 20)}");
            var duplicates = committed.GroupBy(c => $"{c.Id}:{c.Change}").Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(duplicates.Count == 0, $"{duplicates.Count} changes committed more than once, e.g. {string.Join(", ", duplicates.Take(10))}");
            var byRow = committed.GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.Select(c => c.Change).ToList());
            foreach (var (id, changes) in expected)
            {
                Assert.True(byRow.TryGetValue(id, out var got), $"row {id}: nothing committed");
                Assert.Equal(changes, got);
            }
            Assert.Equal(total, committed.Count);
            Assert.True(shown >= committed.Count);
            var last = KafkaLogReader.Committed(KafkaLogReader.Read(cluster.BootstrapServers, "pluginhost.state", 0))[^1];
            Assert.True(JsonNode.Parse(last.Value!)!["events_delivered"]!.GetValue<long>() >= total);
        }
        finally
        {
            host?.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>Each change a read_committed consumer of a real broker would get, per partition in offset order (one row stays in one partition).</summary>
    private static List<(int Id, string Change)> CommittedChanges(KafkaMockCluster cluster, ISet<long> alsoCommitted) =>
        Enumerable.Range(0, Partitions)
            .SelectMany(p => KafkaLogReader.Committed(KafkaLogReader.Read(cluster.BootstrapServers, "kfk_eos.items", p), alsoCommitted))
            .Select(e => Parse(e.Value!))
            .ToList();

    /// <summary>True once the newest committed checkpoint counts at least <paramref name="total"/> events delivered.</summary>
    private static bool Delivered(KafkaMockCluster cluster, int total)
    {
        var committed = KafkaLogReader.Committed(KafkaLogReader.Read(cluster.BootstrapServers, "pluginhost.state", 0));
        return committed.Count > 0 && JsonNode.Parse(committed[^1].Value!)!["events_delivered"]!.GetValue<long>() >= total;
    }

    private static (int Id, string Change) Parse(byte[] value)
    {
        var e = JsonNode.Parse(value)!;
        var op = e["op"]!.GetValue<string>();
        var image = e[op == "delete" ? "before" : "after"]!;
        var id = image["id"]!.GetValue<int>();
        return (id, op switch { "insert" => "i0", "update" => "u" + image["version"]!.GetValue<int>(), _ => "d" });
    }

    private static string Tail(string s, int lines) => string.Join('\n', s.Split('\n').TakeLast(lines));
}
