using System.Text.Json.Nodes;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Kafka.KafkaPipelineKit;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// prensio's sample with its two JavaScript rules and source_rules, and the README's transform, unchanged, run by the
/// host process from a directory into the mock cluster: masked values, dropped rows absent, rerouted messages, keys.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PrensioRulesPipelineTests(MariaDbServer db) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-prensio-rules-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Dictionary<string, string> Env(string pipeline, KafkaMockCluster cluster, int serverId)
    {
        var p = $"PLUGINHOST__PIPELINES__{pipeline}__";
        return new Dictionary<string, string>
        {
            [p + "SOURCE__HOST"] = db.Host, [p + "SOURCE__PORT"] = db.Port.ToString(), [p + "SOURCE__USER"] = db.User,
            [p + "SOURCE__PASSWORD"] = "", [p + "SOURCE__SERVER_ID"] = serverId.ToString(), [p + "SOURCE__SSL"] = "none",
            [p + "SOURCE__START"] = "latest",
            [p + "SINK__BOOTSTRAP_SERVERS"] = cluster.BootstrapServers,
            [p + "CHECKPOINT__SETTINGS__BOOTSTRAP_SERVERS"] = cluster.BootstrapServers,
        };
    }

    [Fact]
    public async Task Prensio_sample_rules_and_the_readme_transform_run_unchanged_from_a_directory()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("test_prensio.test_table_2", 3);
        cluster.CreateTopic("another-topic", 3);
        cluster.CreateTopic("shop.items", 3);
        cluster.CreateTopic("pluginhost.state", 1);
        db.Sql("""
            DROP DATABASE IF EXISTS test_prensio; CREATE DATABASE test_prensio;
            CREATE TABLE test_prensio.test_table_2 (id INT PRIMARY KEY, text_col VARCHAR(40) NOT NULL);
            CREATE TABLE test_prensio.table_1 (id INT PRIMARY KEY, text_col VARCHAR(40) NOT NULL);
            DROP DATABASE IF EXISTS tenant_prensio; CREATE DATABASE tenant_prensio;
            CREATE TABLE tenant_prensio.table_entity_1 (id INT PRIMARY KEY, text_col VARCHAR(40) NOT NULL);
            DROP DATABASE IF EXISTS shop; CREATE DATABASE shop;
            CREATE TABLE shop.items (id INT PRIMARY KEY, text_col VARCHAR(40) NOT NULL);
            """);
        var confs = Directory.CreateDirectory(Path.Combine(_dir, "pipelines")).FullName;
        File.Copy(Path.Combine(RepoPaths.RepoRoot, "samples", "prensio", "prensio_dev_default.toml"), Path.Combine(confs, "prensio_dev_default.toml"));
        File.Copy(Path.Combine(RepoPaths.RepoRoot, "samples", "prensio-readme", "readme_transform.toml"), Path.Combine(confs, "readme_transform.toml"));
        var env = Env("tenant_db_1234", cluster, 8791).Concat(Env("readme-transform", cluster, 8792)).ToDictionary();
        // The REST server runs for TOML files as for YAML (on by default); only its port is moved off 8080 here.
        var port = MariaDbServer.FreePort();
        env["PLUGINHOST__SERVER__LISTEN"] = $"127.0.0.1:{port}";
        using var host = HostProcess.Start(Path.Combine(_dir, "host.log"), env, "run", "--config", confs);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await Poll.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2, TimeSpan.FromSeconds(60), () => host.ReadLog(), 100);
            db.Sql("""
                INSERT INTO test_prensio.test_table_2 VALUES (1,'hello world'),(2,'ignore'),(3,'change-kafka'),(4,'abc');
                INSERT INTO test_prensio.table_1 VALUES (1,'excluded by source_rules');
                INSERT INTO tenant_prensio.table_entity_1 VALUES (1,'dropped by another-rule');
                INSERT INTO shop.items VALUES (10,'Ann Smith'),(11,'Bo');
                UPDATE shop.items SET text_col = 'Bob Jones' WHERE id = 11;
                """);
            await WaitUntil(() => Read(cluster, "test_prensio.test_table_2").Count >= 2 && Read(cluster, "another-topic").Count >= 1 && Read(cluster, "shop.items").Count >= 3, "the rows in Kafka");
            await Task.Delay(1500);

            var main = Read(cluster, "test_prensio.test_table_2").OrderBy(r => r.Key).ToList();
            Assert.Equal(["1", "4"], main.Select(r => r.Key!)); // 'ignore' dropped (ACTION_DROP), 'change-kafka' rerouted
            var first = JsonNode.Parse(main[0].Value!)!;
            Assert.Equal("h*********d", first["after"]![0]!["text_col"]!.GetValue<string>()); // tObfString
            Assert.Equal("abc", JsonNode.Parse(main[1].Value!)!["after"]![0]!["text_col"]!.GetValue<string>()); // 3 characters: kept
            var moved = Assert.Single(Read(cluster, "another-topic"));
            Assert.Equal("another-msg-key", moved.Key);
            var movedValue = JsonNode.Parse(moved.Value!)!;
            Assert.Equal("another-topic", movedValue["kafka"]!["topic"]!.GetValue<string>());
            Assert.Equal("another-msg-key", movedValue["kafka"]!["key"]!.GetValue<string>());
            Assert.Equal("c**********a", movedValue["after"]![0]!["text_col"]!.GetValue<string>());
            Assert.Empty(Read(cluster, "test_prensio.table_1"));
            Assert.Empty(Read(cluster, "tenant_prensio.table_entity_1"));

            var shop = Read(cluster, "shop.items").OrderBy(r => r.Offset).ToList();
            Assert.Equal(3, shop.Count);
            foreach (var r in shop)
            {
                var e = JsonNode.Parse(r.Value!)!;
                Assert.Equal(1, e["ext"]!.GetValue<int>()); // cdc_event.ext = 1: a top-level field of the message
                Assert.Equal(1, e["after"]![0]!["changed"]!.GetValue<int>());
                Assert.Equal("readme-transform", e["meta"]!["pipeline"]!.GetValue<string>());
            }
            Assert.Equal(["10", "11", "11"], shop.Select(r => r.Key!).Order());
            Assert.Contains(shop, r => JsonNode.Parse(r.Value!)!["after"]![0]!["text_col"]!.GetValue<string>() == "A*******h");
            Assert.Contains(shop, r => JsonNode.Parse(r.Value!)!["after"]![0]!["text_col"]!.GetValue<string>() == "Bo");
            Assert.Contains(shop, r => JsonNode.Parse(r.Value!)!["after"]![0]!["text_col"]!.GetValue<string>() == "B*******s");
            Assert.Contains("source_rules: applied", host.ReadLog());

            // GET /pipelines/{name} shows the migrated [[transform_rule]] chain: each rule, what it matches, compiled.
            var transform = JsonNode.Parse(await http.GetStringAsync("pipelines/tenant_db_1234"))!["transform"]!;
            Assert.Equal("transform.rules", (string?)transform["path"]);
            Assert.Equal(["generic test_.* test_.* true ok", "another-rule tenant_.* entity_1 true ok"],
                transform["rules"]!.AsArray().Select(r => $"{r!["name"]} {r["match_schema"]} {r["match_table"]} {r["inline"]} {r["state"]}"));
            var readme = JsonNode.Parse(await http.GetStringAsync("pipelines/readme-transform"))!["transform"]!["rules"]!.AsArray();
            Assert.Equal("readme", (string?)Assert.Single(readme)!["name"]);
            Assert.Null(readme[0]!["error"]);
        }
        finally
        {
            host.Terminate(TimeSpan.FromSeconds(20));
        }
    }
}
