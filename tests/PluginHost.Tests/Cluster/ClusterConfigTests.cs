using PluginHost.Cluster;
using PluginHost.Config;

namespace PluginHost.Tests.Cluster;

/// <summary><c>cluster:</c> in the configuration: defaults, refusals naming the key, and the slot placement every node computes alike.</summary>
public sealed class ClusterConfigTests
{
    private static readonly Dictionary<string, string> NoEnv = [];

    private static string Yaml(string cluster, string checkpoint = "") => $$"""
        {{cluster}}
        pipelines:
          - name: orders
            source: { host: db, user: cdc, server_id: 7 }
            sink: { type: file, path: out.jsonl }
        {{checkpoint}}
        """;

    private const string Cluster = """
        cluster:
          name: cdc-prod
          kafka: { bootstrap_servers: "k1:9092", client: { security.protocol: PLAINTEXT } }
        """;

    [Fact]
    public void Without_cluster_nothing_changes()
    {
        var config = ConfigLoader.Parse(Yaml(""), "pluginhost.yaml", NoEnv);
        Assert.Null(config.Options.Cluster);
        Assert.Equal("file", config.Pipelines[0].Options.Checkpoint.Type);
    }

    [Fact]
    public void In_cluster_mode_checkpoints_go_to_the_cluster_s_topic_through_the_pipeline_s_transactional_id()
    {
        var config = ConfigLoader.Parse(Yaml(Cluster), "pluginhost.yaml", NoEnv);
        var c = config.Options.Cluster!;
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", c.EffectiveNodeId);
        Assert.Equal(TimeSpan.FromSeconds(10), c.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7.5), c.SelfFenceAfter);
        var cp = config.Pipelines[0].Options.Checkpoint;
        Assert.Equal("kafka", cp.Type);
        Assert.Equal("cdc-prod.checkpoints", cp.Settings["topic"].GetString());
        Assert.Equal("cdc-prod-orders", cp.Settings["transactional_id"].GetString());
        Assert.Equal("k1:9092", cp.Settings["bootstrap_servers"].GetString());
        Assert.Equal("PLAINTEXT", cp.Settings["client"].GetProperty("security.protocol").GetString());
    }

    [Theory]
    [InlineData("    checkpoint: { type: file }", "pipeline 'orders': checkpoint.type: 'file' is node-local and refused in cluster mode")]
    [InlineData("    checkpoint: { type: kafka, settings: { topic: pluginhost.state } }", "pipeline 'orders': checkpoint.settings.topic: 'pluginhost.state' is not this cluster's checkpoint topic 'cdc-prod.checkpoints'")]
    [InlineData("    checkpoint: { type: kafka, settings: { transactional_id: x } }", "pipeline 'orders': checkpoint.settings.transactional_id: is set by the cluster")]
    public void Refuses_checkpoints_a_cluster_cannot_share_naming_the_key(string checkpoint, string error)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml(Cluster, checkpoint), "pluginhost.yaml", NoEnv));
        Assert.Contains(e.Errors, x => x.ToString().StartsWith("pluginhost.yaml: " + error, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("cluster: { kafka: { bootstrap_servers: k } }", "cluster.name: is required")]
    [InlineData("cluster: { name: 'a b', kafka: { bootstrap_servers: k } }", "cluster.name: 'a b' may use letters")]
    [InlineData("cluster: { name: a }", "cluster.kafka.bootstrap_servers: is required")]
    [InlineData("cluster: { name: a, slots: 0, kafka: { bootstrap_servers: k } }", "cluster.slots: must be 1-10000")]
    [InlineData("cluster: { name: a, session_timeout: 100ms, kafka: { bootstrap_servers: k } }", "cluster.session_timeout: must be 1s-5m")]
    [InlineData("cluster: { name: a, advertised_url: 'not a url', kafka: { bootstrap_servers: k } }", "cluster.advertised_url: 'not a url' is not an absolute URL")]
    [InlineData("cluster: { name: a, nodes: 3, kafka: { bootstrap_servers: k } }", "cluster.nodes")]
    public void Bad_cluster_settings_are_errors_naming_the_key(string cluster, string error)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml(cluster), "pluginhost.yaml", NoEnv));
        Assert.Contains(e.Errors, x => x.ToString().StartsWith("pluginhost.yaml: " + error, StringComparison.Ordinal));
    }

    [Fact]
    public void A_pipeline_sent_over_the_api_gets_the_same_rules()
    {
        var config = ConfigLoader.Parse(Yaml(Cluster), "pluginhost.yaml", NoEnv);
        var p = ConfigLoader.ParsePipeline("""{"name":"api1","source":{"host":"db","user":"u","server_id":9},"sink":{"type":"file","path":"x"}}""", "(body)", config);
        Assert.Equal("cdc-prod-api1", p.Options.Checkpoint.Settings["transactional_id"].GetString());
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.ParsePipeline(
            """{"name":"api2","source":{"host":"db","user":"u","server_id":9},"sink":{"type":"file","path":"x"},"checkpoint":{"type":"file"}}""", "(body)", config));
        Assert.Contains(e.Errors, x => x.Key == "checkpoint.type");
    }

    [Fact]
    public void Slots_place_up_to_one_pipeline_each_the_same_way_every_time()
    {
        var names = Enumerable.Range(1, 9).Select(i => $"p{i}").ToList();
        var placed = SlotMap.Place(names, 9);
        Assert.Equal(9, placed.Values.Distinct().Count());
        Assert.Equal(placed, SlotMap.Place(Enumerable.Reverse(names), 9));
        // More pipelines than slots: every pipeline in its home slot.
        var many = SlotMap.Place(Enumerable.Range(1, 500).Select(i => $"db{i}"), 64);
        Assert.All(many, kv => Assert.Equal(SlotMap.Home(kv.Key, 64), kv.Value));
        // Adding a pipeline keeps the others where their home is.
        var more = SlotMap.Place(names.Append("p10"), 64);
        var fewer = SlotMap.Place(names, 64);
        Assert.All(fewer.Where(kv => kv.Value == SlotMap.Home(kv.Key, 64)), kv => Assert.Equal(kv.Value, more[kv.Key]));
    }
}
