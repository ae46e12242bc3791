using System.Text.Json.Nodes;
using PluginHost.Pipelines;
using PluginHost.Plugins.Kafka;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Kafka.KafkaPipelineKit;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// Whole pipelines: MariaDB binlog → PluginHost → Kafka sink → librdkafka's mock cluster (three brokers, in this
/// process), with the checkpoint in Kafka too. Topics are read back with Confluent.Kafka consumers.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class KafkaPipelineTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-kafka-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Routes_each_table_to_its_topic_keyed_by_primary_key_in_commit_order_per_row()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("kfk_route.users", 4);
        db.Sql("""
            DROP DATABASE IF EXISTS kfk_route; CREATE DATABASE kfk_route;
            CREATE TABLE kfk_route.users (id INT PRIMARY KEY, name VARCHAR(40), n INT NOT NULL);
            CREATE TABLE kfk_route.orders (id BIGINT NOT NULL, line INT NOT NULL, amount DECIMAL(10,2), n INT NOT NULL, PRIMARY KEY (id, line));
            CREATE TABLE kfk_route.log (msg VARCHAR(40), n INT);
            """);
        var config = MakeConfig(_dir, PipelineYaml(db, "route", "kfk_route", Start(db),
            $$"""{ type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", create_topics: false }"""));
        var manager = Manager(config, output);
        await manager.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntil(() => manager.Find("route")?.Status.State == PipelineState.Running, "the pipeline to run");
            for (var round = 0; round < 4; round++)
            {
                var values = string.Join(",", Enumerable.Range(1, 50).Select(i => $"({i},'user {i}',{round})"));
                db.Sql(round == 0
                    ? $"INSERT INTO kfk_route.users VALUES {values}; INSERT INTO kfk_route.orders VALUES (7,1,'12.50',0),(7,2,'0.99',0); INSERT INTO kfk_route.log VALUES ('hello',1);"
                    : $"UPDATE kfk_route.users SET n = {round}; UPDATE kfk_route.orders SET n = {round} WHERE id = 7;");
            }
            db.Sql("DELETE FROM kfk_route.users WHERE id <= 10; DELETE FROM kfk_route.orders WHERE line = 2;");
            await WaitUntil(() => Read(cluster, "kfk_route.users").Count >= 210 && Read(cluster, "kfk_route.orders").Count >= 9, "every change in Kafka");
            await manager.StopAsync(CancellationToken.None);

            var users = Read(cluster, "kfk_route.users");
            Assert.Equal(210, users.Count);
            foreach (var row in users.GroupBy(r => r.Key!))
            {
                Assert.Single(row.Select(r => r.Partition).Distinct());
                Assert.Equal(Murmur2.Partition(System.Text.Encoding.UTF8.GetBytes(row.Key), 4), row.First().Partition);
                var id = Id(row.First());
                Assert.Equal($$"""{"id":{{id}}}""", row.Key);
                var expected = new List<string> { $"{id}:insert:0", $"{id}:update:1", $"{id}:update:2", $"{id}:update:3" };
                if (id <= 10) expected.Add($"{id}:delete:3");
                Assert.Equal(expected, row.OrderBy(r => r.Offset).Select(Change).ToList());
            }
            var orders = Read(cluster, "kfk_route.orders");
            Assert.Equal(9, orders.Count); // 2 inserts, 3×2 updates, 1 delete
            Assert.Equal(["""{"id":7,"line":1}""", """{"id":7,"line":2}"""], orders.Select(r => r.Key!).Distinct().Order());
            Assert.Equal("12.50", JsonNode.Parse(orders.First(r => r.Key!.Contains("\"line\":1")).Value!)!["after"]!["amount"]!.GetValue<string>());
            var log = Assert.Single(Read(cluster, "kfk_route.log"));
            Assert.Null(log.Key); // no primary key: no key (spread over partitions, like Debezium)
            Assert.Equal("insert", log.Headers["op"]);
            Assert.Equal("route", log.Headers["pipeline"]);
            Assert.Matches(@"^mysql-bin\.\d+:\d+$", log.Headers["position"]);
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Kafka_checkpoint_store_resumes_where_the_pipeline_stopped()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("pluginhost.state", 3);
        db.Sql("DROP DATABASE IF EXISTS kfk_resume; CREATE DATABASE kfk_resume; CREATE TABLE kfk_resume.t (id INT PRIMARY KEY, n INT NOT NULL);");
        var yaml = PipelineYaml(db, "resume", "kfk_resume", Start(db),
            $$"""{ type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", create_topics: false }""",
            "{ type: kafka, settings: { create_topic: false, timeout: 10s } }"); // bootstrap_servers: the sink's
        var config = MakeConfig(_dir, yaml);

        var manager = Manager(config, output);
        await manager.StartAsync(CancellationToken.None);
        await WaitUntil(() => manager.Find("resume")?.Status.State == PipelineState.Running, "the pipeline to run");
        for (var i = 0; i < 10; i++) db.Sql($"INSERT INTO kfk_resume.t SELECT seq, 0 FROM seq_{i * 10 + 1}_to_{i * 10 + 10};", "kfk_resume");
        await WaitUntil(() => Read(cluster, "kfk_resume.t").Count >= 100, "100 inserts in Kafka");
        await manager.StopAsync(CancellationToken.None);

        // The state topic holds the pipeline's checkpoint, keyed by its name, on the Java client's partition for that key.
        var state = Read(cluster, "pluginhost.state");
        Assert.NotEmpty(state);
        Assert.All(state, r => Assert.Equal("resume", r.Key));
        Assert.All(state, r => Assert.Equal(KafkaCheckpointBackend.PartitionOf("resume", 3), r.Partition));
        var last = JsonNode.Parse(state.MaxBy(r => r.Offset)!.Value!)!;
        Assert.Equal(100, last["events_delivered"]!.GetValue<long>());
        Assert.Equal("resume", last["pipeline"]!.GetValue<string>());
        Assert.Null(manager.Find("resume")?.Status.LastError);

        // While stopped: 50 more changes. The state directory is wiped: the checkpoint can only come from Kafka.
        db.Sql("INSERT INTO kfk_resume.t SELECT seq, 0 FROM seq_101_to_130; UPDATE kfk_resume.t SET n = 1 WHERE id <= 20;", "kfk_resume");
        if (Directory.Exists(config.StateDirectory)) Directory.Delete(config.StateDirectory, true);
        var again = Manager(config, output);
        await again.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntil(() => Read(cluster, "kfk_resume.t").Count >= 150, "the changes made while stopped");
            await Task.Delay(500);
            await again.StopAsync(CancellationToken.None);
            var records = Read(cluster, "kfk_resume.t");
            Assert.Equal(150, records.Count); // resumed exactly after the last checkpoint: nothing read twice
            Assert.Equal(150, records.Select(Change).Distinct().Count());
            var final = JsonNode.Parse(Read(cluster, "pluginhost.state").MaxBy(r => r.Offset)!.Value!)!;
            Assert.Equal(150, final["events_delivered"]!.GetValue<long>());
        }
        finally
        {
            await again.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Every_broker_down_then_back_loses_nothing_and_keeps_row_order()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("kfk_down.t", 3);
        cluster.CreateTopic("pluginhost.state", 1);
        db.Sql("DROP DATABASE IF EXISTS kfk_down; CREATE DATABASE kfk_down; CREATE TABLE kfk_down.t (id INT PRIMARY KEY, n INT NOT NULL);");
        var config = MakeConfig(_dir, PipelineYaml(db, "down", "kfk_down", Start(db),
            $$"""{ type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", create_topics: false, flush_timeout: 1s }""",
            "{ type: kafka, settings: { create_topic: false, timeout: 2s } }"));
        var manager = Manager(config, output);
        await manager.StartAsync(CancellationToken.None);
        try
        {
            var status = manager.Find("down")!.Status;
            await WaitUntil(() => status.State == PipelineState.Running, "the pipeline to run");
            db.Sql("INSERT INTO kfk_down.t SELECT seq, 0 FROM seq_1_to_200;", "kfk_down");
            await WaitUntil(() => Read(cluster, "kfk_down.t").Count >= 200, "the first 200 rows");
            // Their checkpoint saved too: a save still under way when the brokers go down fails on the (same) cluster, and
            // a failing checkpoint store shows as retrying, which is not what this test looks at.
            await WaitUntil(() => status.Checkpoint?.EventsDelivered >= 200, "the first 200 rows' checkpoint");

            cluster.SetAllBrokersDown();
            for (var round = 1; round <= 5; round++)
                db.Sql($"UPDATE kfk_down.t SET n = {round} WHERE id <= 200 AND id % 5 < {round}; INSERT INTO kfk_down.t VALUES ({200 + round}, {round});", "kfk_down");
            db.Sql("DELETE FROM kfk_down.t WHERE id > 195;");
            // The batches owed are late past flush_timeout: the cluster shows as a failing sink target (degraded, with
            // librdkafka's error) while the pipeline holds.
            await WaitUntil(() => status.State == PipelineState.Degraded && status.LastError != null, "the pipeline to hold (degraded)", TimeSpan.FromSeconds(20));
            output.WriteLine($"while down: {status.State}: {status.LastError}");
            await Task.Delay(1500);

            cluster.SetAllBrokersUp();
            var expected = db.Sql("SELECT COUNT(*) FROM kfk_down.t;").Trim();
            await WaitUntil(() => status.Checkpoint?.EventsDelivered >= 200 + 600 + 5 + 10 && status.State == PipelineState.Running,
                "everything delivered and checkpointed after the brokers returned", TimeSpan.FromSeconds(60));
            await manager.StopAsync(CancellationToken.None);

            // Every change arrived; the first arrival of each keeps the commit order per row; duplicates are possible.
            var records = Read(cluster, "kfk_down.t").OrderBy(r => r.Offset).ToList();
            foreach (var row in records.GroupBy(r => Id(r)))
            {
                var id = row.Key;
                var expectedChanges = new List<string> { $"{id}:insert:{(id > 200 ? id - 200 : 0)}" };
                if (id <= 200)
                    for (var round = 1; round <= 5; round++)
                        if (id % 5 < round) expectedChanges.Add($"{id}:update:{round}");
                if (id > 195) expectedChanges.Add($"{id}:delete:{(id > 200 ? id - 200 : expectedChanges[^1].Split(':')[2])}");
                var seen = new List<string>();
                foreach (var c in row.Select(Change)) if (!seen.Contains(c)) seen.Add(c);
                Assert.Equal(expectedChanges, seen);
            }
            Assert.Equal(205, records.Select(Id).Distinct().Count());
            output.WriteLine($"{records.Count} records for {records.Select(Change).Distinct().Count()} changes; table now has {expected} rows");
        }
        finally
        {
            cluster.SetAllBrokersUp();
            await manager.StopAsync(CancellationToken.None);
        }
    }
}
