using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins.Kafka;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Kafka.KafkaPipelineKit;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// go-mysql-kafka (prensio) pipeline files, unchanged, run end to end: the real MariaDB → a pipeline read from the
/// TOML file → Kafka sink with <c>format: prensio</c> → the mock cluster, read back with a consumer and with kcat; and
/// the first start continuing after the GTID of a prensio state record written into the cluster.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PrensioPipelineTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private static int _serverId = 8700;
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-prensio-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>A copy of one of prensio's sample files (so state/ is written in the temp folder), byte for byte.</summary>
    private string CopySample(string name)
    {
        var target = Path.Combine(_dir, name);
        File.Copy(Path.Combine(RepoPaths.RepoRoot, "samples", "prensio", name), target);
        return target;
    }

    /// <summary>What prensio's own tests override (addresses), plus a replica id of our own and where to start, by environment.</summary>
    private Dictionary<string, string> Env(string pipeline, KafkaMockCluster cluster, string? start = "latest")
    {
        var p = $"PLUGINHOST__PIPELINES__{pipeline}__";
        var env = new Dictionary<string, string>
        {
            [p + "SOURCE__HOST"] = db.Host,
            [p + "SOURCE__PORT"] = db.Port.ToString(),
            [p + "SOURCE__USER"] = db.User,
            [p + "SOURCE__PASSWORD"] = "",
            [p + "SOURCE__SERVER_ID"] = Interlocked.Increment(ref _serverId).ToString(),
            [p + "SOURCE__SSL"] = "none",
            [p + "SOURCE__HEARTBEAT"] = "1s",
            [p + "SINK__BOOTSTRAP_SERVERS"] = cluster.BootstrapServers,
            [p + "CHECKPOINT__SETTINGS__BOOTSTRAP_SERVERS"] = cluster.BootstrapServers,
            [p + "CHECKPOINT__SETTINGS__TIMEOUT"] = "10s",
        };
        if (start != null) env[p + "SOURCE__START"] = start;
        return env;
    }

    [Fact]
    public async Task Prensio_sample_runs_unchanged_one_message_per_row_in_prensios_shape_keyed_and_partitioned_by_row()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("prensio_e2e.items", 4);
        cluster.CreateTopic("pluginhost.state", 1);
        db.Sql("""
            DROP DATABASE IF EXISTS prensio_e2e; CREATE DATABASE prensio_e2e;
            CREATE TABLE prensio_e2e.items (sku VARCHAR(20) NOT NULL, region INT NOT NULL, text_col VARCHAR(40), price DECIMAL(8,2), PRIMARY KEY (sku, region));
            CREATE TABLE prensio_e2e.nokey (msg VARCHAR(20));
            """);
        var config = ConfigLoader.Load(CopySample("simple_test.toml"), Env("simple-test-d", cluster));
        var manager = Manager(config, output);
        await manager.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntil(() => manager.Find("simple-test-d")?.Status.State == PipelineState.Running, "the pipeline to run");
            // One statement, one binlog rows event with three rows: three messages, each with its own key.
            db.Sql("INSERT INTO prensio_e2e.items VALUES ('a',1,'hello','1.50'),('b',1,'world','2.00'),('a',2,'x',NULL);");
            db.Sql("UPDATE prensio_e2e.items SET text_col = 'changed' WHERE sku = 'a'; DELETE FROM prensio_e2e.items WHERE sku = 'b';");
            db.Sql("INSERT INTO prensio_e2e.nokey VALUES ('no key');");
            await WaitUntil(() => Read(cluster, "prensio_e2e.items").Count >= 6 && Read(cluster, "prensio_e2e.nokey").Count >= 1, "every row in Kafka");
            await manager.StopAsync(CancellationToken.None);

            var items = Read(cluster, "prensio_e2e.items");
            Assert.Equal(6, items.Count);
            Assert.Equal(["a.1", "a.2", "b.1"], items.Select(r => r.Key!).Distinct().Order());
            foreach (var row in items.GroupBy(r => r.Key!))
            {
                // One partition per row, the Java client's (murmur2) for the key; in commit order within it.
                Assert.Single(row.Select(r => r.Partition).Distinct());
                Assert.Equal(Murmur2.Partition(Encoding.UTF8.GetBytes(row.Key), 4), row.First().Partition);
                foreach (var r in row)
                {
                    var e = JsonNode.Parse(r.Value!)!.AsObject();
                    Assert.Equal(["schema", "table", "action", "before", "after", "meta", "kafka"], e.Select(kv => kv.Key));
                    Assert.Equal("prensio_e2e", e["schema"]!.GetValue<string>());
                    Assert.Equal("items", e["table"]!.GetValue<string>());
                    Assert.Equal("prensio_e2e.items", e["kafka"]!["topic"]!.GetValue<string>());
                    Assert.Equal(row.Key, e["kafka"]!["key"]!.GetValue<string>());
                    Assert.Equal("simple-test-d", e["meta"]!["pipeline"]!.GetValue<string>());
                    Assert.InRange(e["meta"]!["timestamp"]!.GetValue<long>(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds() * 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
                    Assert.Empty(r.Headers); // prensio sent none
                }
            }
            var actions = items.Where(r => r.Key == "a.1").OrderBy(r => r.Offset).Select(r => JsonNode.Parse(r.Value!)!).ToList();
            Assert.Equal(["insert", "update"], actions.Select(a => a["action"]!.GetValue<string>()));
            Assert.Null(actions[0]["before"]);
            var after = Assert.Single(actions[0]["after"]!.AsArray())!;
            Assert.Equal("""{"sku":"a","region":1,"text_col":"hello","price":"1.50"}""", after.ToJsonString());
            Assert.Equal("hello", Assert.Single(actions[1]["before"]!.AsArray())!["text_col"]!.GetValue<string>());
            Assert.Equal("changed", Assert.Single(actions[1]["after"]!.AsArray())!["text_col"]!.GetValue<string>());
            var deleted = JsonNode.Parse(items.Single(r => r.Key == "b.1" && r.Value!.Contains("\"delete\"")).Value!)!;
            Assert.Null(deleted["after"]);
            Assert.Equal("world", Assert.Single(deleted["before"]!.AsArray())!["text_col"]!.GetValue<string>());

            // A table without a key: keyed by its topic, as prensio did.
            var nokey = Assert.Single(Read(cluster, "prensio_e2e.nokey"));
            Assert.Equal("prensio_e2e.nokey", nokey.Key);

            // kcat sees the same: key and prensio's value.
            var lines = cluster.Kcat("prensio_e2e.items", "%k|%s\\n");
            Assert.Equal(6, lines.Count);
            Assert.All(lines, l => Assert.Matches("""^(a\.1|a\.2|b\.1)\|\{"schema":"prensio_e2e","table":"items","action":"(insert|update|delete)",""", l));
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task First_start_continues_after_the_gtid_of_prensios_last_state_record_then_keeps_its_own_checkpoint()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("prensio_resume.t", 2);
        cluster.CreateTopic("pluginhost.state", 1);
        cluster.CreateTopic("prensio-resume-state", 1);
        var file = Path.Combine(_dir, "resume.toml");
        File.WriteAllText(file, """
            [mysql]
            name = "resume"
            addr = "SHOULD-OVERRIDE:3306"
            user = "root"
            pass = ""
            server_id = 1

            [source_rules]
            include_schemas = ["^prensio_resume$"]

            [kafka_sink]
            name = "mock"
            addr = "SHOULD-OVERRIDE"

            [state_tracking]
            kafka_addr = "SHOULD-OVERRIDE"
            state_topic = ""
            """);
        db.Sql("DROP DATABASE IF EXISTS prensio_resume; CREATE DATABASE prensio_resume; CREATE TABLE prensio_resume.t (id INT PRIMARY KEY, n INT NOT NULL);");
        // What prensio wrote before it was stopped: rows 1-3, then its state record holding the last transaction's GTID.
        db.Sql("INSERT INTO prensio_resume.t VALUES (1,0),(2,0);");
        db.Sql("INSERT INTO prensio_resume.t VALUES (3,0);");
        var gtid = db.Sql("SELECT @@gtid_binlog_pos;").Trim();
        KafkaNative.EnsureResolver();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            // An older record of this pipeline and one of another pipeline sharing the topic: the last of its own name wins.
            await producer.ProduceAsync("prensio-resume-state", new Message<string, string> { Key = "resume", Value = """{"gtid":"0-1-1","name":"resume","timestamp":1}""" });
            await producer.ProduceAsync("prensio-resume-state", new Message<string, string> { Key = "resume", Value = $$"""{"gtid":"{{gtid}}","name":"resume","timestamp":1733400000000000}""" });
            await producer.ProduceAsync("prensio-resume-state", new Message<string, string> { Key = "other", Value = """{"gtid":"0-1-2","name":"other","timestamp":2}""" });
        }
        // Changes after prensio stopped: these, and only these, must arrive.
        db.Sql("INSERT INTO prensio_resume.t VALUES (4,0); UPDATE prensio_resume.t SET n = 1 WHERE id = 1;");

        var config = ConfigLoader.Load(file, Env("resume", cluster, start: null)); // start: prensio's state, else the oldest binlog
        var manager = Manager(config, output);
        await manager.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntil(() => Read(cluster, "prensio_resume.t").Count >= 2, "the changes made after prensio's state");
            await Task.Delay(1000);
            db.Sql("INSERT INTO prensio_resume.t VALUES (5,0);");
            await WaitUntil(() => Read(cluster, "prensio_resume.t").Count >= 3, "a change made while running");
            await Task.Delay(500);
            await manager.StopAsync(CancellationToken.None);
            var changes = Read(cluster, "prensio_resume.t").Select(r => JsonNode.Parse(r.Value!)!)
                .Select(e => $"{e["action"]}:{e["after"]![0]!["id"]}:{e["after"]![0]!["n"]}").Order().ToList();
            Assert.Equal(["insert:4:0", "insert:5:0", "update:1:1"], changes);
            // prensio's topic is only read; our checkpoint went to pluginhost.state.
            Assert.Equal(3, Read(cluster, "prensio-resume-state").Count);
            var own = JsonNode.Parse(Read(cluster, "pluginhost.state").MaxBy(r => r.Offset)!.Value!)!;
            Assert.Equal("resume", own["pipeline"]!.GetValue<string>());
            Assert.Equal(3, own["events_delivered"]!.GetValue<long>());
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
        }

        // Second start: its own checkpoint wins over prensio's (older) record; nothing is sent twice.
        db.Sql("INSERT INTO prensio_resume.t VALUES (6,0);");
        var again = Manager(config, output);
        await again.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntil(() => Read(cluster, "prensio_resume.t").Count >= 4, "the change made while stopped");
            await Task.Delay(1000);
            await again.StopAsync(CancellationToken.None);
            Assert.Equal(4, Read(cluster, "prensio_resume.t").Count);
        }
        finally
        {
            await again.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_host_process_runs_a_directory_of_prensio_files_and_reports_bad_ones_by_file_line_and_key()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("prensio_proc.t", 3);
        cluster.CreateTopic("pluginhost.state", 1);
        db.Sql("DROP DATABASE IF EXISTS prensio_proc; CREATE DATABASE prensio_proc; CREATE TABLE prensio_proc.t (id INT PRIMARY KEY, n INT NOT NULL);");
        var confs = Directory.CreateDirectory(Path.Combine(_dir, "pipelines")).FullName;
        File.Copy(Path.Combine(RepoPaths.RepoRoot, "samples", "prensio", "simple_test.toml"), Path.Combine(confs, "simple_test.toml"));

        // A broken file next to it: nothing runs, every problem is listed.
        var broken = Path.Combine(confs, "nested", "broken.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(broken)!);
        File.WriteAllText(broken, "[mysql]\nname = \"broken\"\naddr = \"db:3306\"\nuser = \"u\"\nserver_id = 9\n\n[kafka_sink]\naddr = \"k:9092\"\nbatch_size = 10\n");
        using (var failed = HostProcess.Start(Path.Combine(_dir, "failed.log"), "run", "--config", confs))
        {
            Assert.True(failed.WaitForExit(TimeSpan.FromSeconds(60)), failed.ReadLog());
            var log = failed.ReadLog();
            Assert.Equal(2, failed.ExitCode);
            Assert.Contains($"{broken}:9: kafka_sink.batch_size: is not a [kafka_sink] setting", log);
            Assert.DoesNotContain("   at ", log);
        }
        File.Delete(broken);

        // The REST API, health, metrics and dashboard as a YAML configuration has them (--listen: a free port, not 8080).
        var port = MariaDbServer.FreePort();
        using var host = HostProcess.Start(Path.Combine(_dir, "host.log"), Env("simple-test-d", cluster), "run", "--config", confs, "--listen", $"127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await Poll.UntilAsync(() => host.ReadLog().Contains("streaming binlog", StringComparison.Ordinal), TimeSpan.FromSeconds(60), () => host.ReadLog(), 100);
            db.Sql("INSERT INTO prensio_proc.t VALUES (1,0),(2,0); UPDATE prensio_proc.t SET n = 1;");
            await WaitUntil(() => Read(cluster, "prensio_proc.t").Count >= 4, "the changes in Kafka");
            var records = Read(cluster, "prensio_proc.t");
            Assert.Equal(["1", "1", "2", "2"], records.Select(r => r.Key!).Order());
            Assert.All(records, r => Assert.Equal("simple-test-d", JsonNode.Parse(r.Value!)!["meta"]!["pipeline"]!.GetValue<string>()));
            Assert.Contains("mysql.port: ignored", host.ReadLog());

            var pipelines = JsonNode.Parse(await http.GetStringAsync("pipelines"))!.AsArray();
            var pipeline = Assert.Single(pipelines)!;
            Assert.Equal("simple-test-d", (string?)pipeline["name"]);
            Assert.Equal("running", (string?)pipeline["state"]);
            Assert.Equal("kafka", (string?)pipeline["sink"]!["type"]);
            Assert.True((long)pipeline["events"]!["out"]! >= 4, pipeline.ToJsonString());
            var health = JsonNode.Parse(await http.GetStringAsync("health"))!;
            Assert.Equal("UP", (string?)health["status"]);
            Assert.Equal("running", (string?)health["pipelines"]!["simple-test-d"]!["state"]);
            var metrics = await http.GetStringAsync("metrics");
            Assert.Contains("pluginhost_events_received_total{pipeline=\"simple-test-d\"}", metrics);
            Assert.Contains("<title>", await http.GetStringAsync("/"));
            // Changes need the admin token, generated at first start beside the files (state/admin-token), as for a YAML file.
            using var pause = new HttpRequestMessage(HttpMethod.Post, "pipelines/simple-test-d/pause");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.SendAsync(pause)).StatusCode);
            var token = (await File.ReadAllTextAsync(Path.Combine(confs, "state", "admin-token"))).Trim();
            using var authorized = new HttpRequestMessage(HttpMethod.Post, "pipelines/simple-test-d/pause") { Headers = { { "Authorization", "Bearer " + token } } };
            Assert.True((await http.SendAsync(authorized)).IsSuccessStatusCode);
            string? state = null;
            for (var i = 0; i < 200 && state != "paused"; i++, await Task.Delay(100))
                state = (string?)JsonNode.Parse(await http.GetStringAsync("pipelines/simple-test-d"))!["state"];
            Assert.Equal("paused", state);
        }
        finally
        {
            host.Terminate(TimeSpan.FromSeconds(20));
        }
    }
}
