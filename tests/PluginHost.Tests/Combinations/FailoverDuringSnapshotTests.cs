using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginHost.Tests.Cluster;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// Cluster mode and snapshots together (issues 16 and 20): two real host processes share two pipelines on the mock
/// Kafka cluster; kill -9 of the node running an initial snapshot into Kafka moves the pipeline to the other node,
/// which continues the snapshot from the checkpoint in the cluster's topic (not from row 0): every row arrives, the
/// repeats stay within what was in flight, and the other pipeline's changes all arrive.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class FailoverDuringSnapshotTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 30_000;
    private const int ChunkSize = 1000;
    private const int InFlightEvents = 2000;
    private const int BatchSize = 500;

    [Fact]
    public async Task Kill_minus_nine_of_the_node_running_a_snapshot_moves_it_and_the_snapshot_continues_elsewhere()
    {
        var database = "combo_fo_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE small (id INT PRIMARY KEY, v INT NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{Rows};
            """);
        using var kafka = new KafkaMockCluster();
        kafka.CreateTopic($"{database}.big", 6); // the mock keeps the newest 5 MB of a partition: 30,000 events need several
        kafka.CreateTopic($"{database}.small", 1);
        var start = Kit.MasterStatus(db);
        // A millisecond per event paces the snapshot (about half a minute), so the kill lands in its middle.
        var pace = Path.Combine(TestTemp.CreateSubdirectory("pluginhost-combo-fo-").FullName, "pace.csx");
        File.WriteAllText(pace, "ChangeEvent Transform(ChangeEvent e) { System.Threading.Thread.Sleep(1); return e; }\n");
        var sink = $$"""{ type: kafka, bootstrap_servers: "{{kafka.BootstrapServers}}", create_topics: false, flush_timeout: 2s }""";
        var yaml = $$"""
              - name: snap
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: {{Kit.NextServerId()}}, ssl: none, heartbeat: 1s }
                filter: { include: ["{{database}}.big"] }
                snapshot: { mode: initial, chunk_size: {{ChunkSize}} }
                transform: {{pace}}
                batch_size: {{BatchSize}}
                in_flight_events: {{InFlightEvents}}
                sink: {{sink}}
              - name: stream
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: {{Kit.NextServerId()}}, ssl: none, heartbeat: 1s, start: { file: {{start.File}}, pos: {{start.Position}} } }
                filter: { include: ["{{database}}.small"] }
                batch_size: 50
                sink: {{sink}}
            """;
        using var kit = new ClusterKit(kafka, "fo" + database[^8..], yaml, slots: 2, session: TimeSpan.FromSeconds(4));
        string[] all = ["n1", "n2"];
        string[] names = ["snap", "stream"];
        foreach (var n in all) kit.Start(n);
        var owners = await kit.WaitForEachOnce(all, names, TimeSpan.FromSeconds(180), minEach: 1);
        output.WriteLine("up: " + ClusterKit.Describe(owners));
        var victim = owners.First(kv => kv.Value.Contains("snap")).Key;
        var survivor = all.Single(n => n != victim);

        var smallRows = 0;
        using var writing = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                db.Sql($"INSERT INTO small VALUES ({smallRows + 1}, 1);", database);
                smallRows++;
                await Task.Delay(100);
            }
        });
        try
        {
            await Poll.UntilAsync(() => kafka.Count($"{database}.big") >= Rows / 4, TimeSpan.FromSeconds(240),
                () => $"{Rows / 4} rows in Kafka: {kafka.Count($"{database}.big")}\n{kit.Logs()}", 100);
            var atKill = kafka.Count($"{database}.big");
            kit.Nodes[victim].Process.KillHard();
            output.WriteLine($"kill -9 {victim} with {atKill} rows in Kafka");
            Assert.InRange(atKill, 1, Rows - 5 * ChunkSize); // the kill landed in the middle of the snapshot
            var after = await kit.WaitForEachOnce([survivor], names, TimeSpan.FromSeconds(90));
            output.WriteLine("after the kill: " + ClusterKit.Describe(after));

            await Poll.UntilAsync(() => kafka.Count($"{database}.big") >= Rows && Ids(kafka, $"{database}.big").Distinct().Count() >= Rows, TimeSpan.FromSeconds(300),
                () => $"every row in Kafka: {kafka.Count($"{database}.big")} records, {Ids(kafka, $"{database}.big").Distinct().Count()} rows\n{kit.Logs()}", 1000);
            await writing.CancelAsync();
            await writer;
            var written = smallRows;
            await Poll.UntilAsync(() => Ids(kafka, $"{database}.small").Distinct().Count() >= written, TimeSpan.FromSeconds(60),
                () => $"{written} small rows in Kafka\n{kit.Logs()}", 200);

            var survivorLog = kit.Nodes[survivor].Process.ReadLog();
            var resumedFrom = TableStarted().Matches(survivorLog).Where(m => m.Groups[1].Value == database)
                .Select(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
            var ids = Ids(kafka, $"{database}.big");
            output.WriteLine($"{survivor} took the snapshot over from rows {string.Join(", ", resumedFrom)}; {ids.Count} records for {Rows} rows; {written} small rows");
            Assert.Single(resumedFrom);
            Assert.True(resumedFrom[0] > 0, $"{survivor} started the snapshot over from row 0");
            Assert.Equal(Enumerable.Range(1, Rows), ids.Distinct().Order());
            Assert.InRange(ids.Count - Rows, 0, InFlightEvents + BatchSize + 3 * ChunkSize);
            Assert.Equal(Enumerable.Range(1, written), Ids(kafka, $"{database}.small").Distinct().Order());
        }
        finally
        {
            await writing.CancelAsync();
            try { await writer; } catch (Exception) { }
        }
    }

    private static List<int> Ids(KafkaMockCluster kafka, string topic) =>
        kafka.ReadAll(topic).Select(r => JsonNode.Parse(r.Value!)!["after"]!["id"]!.GetValue<int>()).ToList();

    [GeneratedRegex(@"snapshot of (\w+)\.big \(about -?\d+ rows, chunk key id\) from row (\d+)")]
    private static partial Regex TableStarted();
}
