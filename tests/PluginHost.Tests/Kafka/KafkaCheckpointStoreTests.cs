using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Kafka.KafkaTestSupport;

namespace PluginHost.Tests.Kafka;

/// <summary>The Kafka checkpoint store against the mock cluster, and how a pipeline selects it.</summary>
[Trait("Category", "Integration")]
public sealed class KafkaCheckpointStoreTests
{
    private static CheckpointBackendContext Context(string settings, string pipeline = "orders", string sink = """{"type":"file","path":"x"}""", RecordingLogger? logger = null) =>
        new(pipeline, Json(settings), Json(sink), logger ?? new RecordingLogger(), AppContext.BaseDirectory);

    [Fact]
    public async Task Saves_and_loads_the_last_record_per_pipeline_and_deletes_with_a_tombstone()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("pluginhost.state", 3);
        var settings = $$"""{"bootstrap_servers":"{{cluster.BootstrapServers}}","create_topic":false}""";
        await using (var store = new KafkaCheckpointBackendFactory().Create(Context(settings)))
        {
            Assert.Null(await store.LoadAsync("orders", CancellationToken.None));
            for (var i = 1; i <= 5; i++)
                await store.SaveAsync("orders", new CheckpointState("mysql-bin.000007", 1000 * i, $"0-1-{i}", DateTimeOffset.UtcNow, 10 * i)
                    { LastEventTime = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 + i) }, CancellationToken.None);
            await store.SaveAsync("other", new CheckpointState("mysql-bin.000001", 4, null, DateTimeOffset.UtcNow, 0), CancellationToken.None);
        }

        // A new store (a restarted host) reads it back: the last record of the key wins.
        await using (var store = new KafkaCheckpointBackendFactory().Create(Context(settings)))
        {
            var loaded = await store.LoadAsync("orders", CancellationToken.None);
            Assert.NotNull(loaded);
            Assert.Equal(("mysql-bin.000007", 5000L, "0-1-5", 50L), (loaded.File, loaded.Position, loaded.Gtid, loaded.EventsDelivered));
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_800_000_005), loaded.LastEventTime); // the newest delivered change's time travels with it
            Assert.Equal(4, (await store.LoadAsync("other", CancellationToken.None))!.Position);
            Assert.Null((await store.LoadAsync("other", CancellationToken.None))!.LastEventTime);
            await store.DeleteAsync("orders", CancellationToken.None);
            Assert.Null(await store.LoadAsync("orders", CancellationToken.None));
            Assert.NotNull(await store.LoadAsync("other", CancellationToken.None));
        }
        var records = cluster.ReadAll("pluginhost.state");
        Assert.All(records.Where(r => r.Key == "orders"), r => Assert.Equal(KafkaCheckpointBackend.PartitionOf("orders", 3), r.Partition));
        Assert.Null(records.Where(r => r.Key == "orders").MaxBy(r => r.Offset)!.Value); // the tombstone
    }

    [Fact]
    public async Task A_save_that_is_not_acknowledged_throws()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("state", 1);
        var logger = new RecordingLogger();
        await using var store = new KafkaCheckpointBackendFactory().Create(Context(
            $$"""{"bootstrap_servers":"{{cluster.BootstrapServers}}","topic":"state","create_topic":false,"timeout":"2s"}""", logger: logger));
        await store.SaveAsync("orders", new CheckpointState("f", 4, null, DateTimeOffset.UtcNow, 1), CancellationToken.None);
        cluster.SetAllBrokersDown();
        var error = await Assert.ThrowsAsync<KafkaSinkException>(() => store.SaveAsync("orders", new CheckpointState("f", 8, null, DateTimeOffset.UtcNow, 2), CancellationToken.None));
        Assert.Contains("cannot save the checkpoint", error.Message);
        cluster.SetAllBrokersUp();
    }

    [Fact]
    public void The_store_is_chosen_per_pipeline_and_its_settings_are_validated_with_the_config()
    {
        var sinks = KafkaPipelineKit.Sinks();
        var catalog = new CheckpointStoreCatalog(sinks);
        Assert.Equal(["file", "kafka", "prensio"], catalog.Types.Order());
        Assert.IsType<KafkaCheckpointBackendFactory>(catalog.Find("kafka"));

        var dir = Path.GetTempPath();
        string Pipeline(string name, string checkpoint) => $$"""
              - name: {{name}}
                source: { host: 127.0.0.1, user: root, server_id: {{name.Length + 100}} }
                sink: { type: kafka, bootstrap_servers: "127.0.0.1:9" }
                checkpoint: {{checkpoint}}
            """;
        var config = ConfigLoader.Parse($"state_dir: {dir}/state\npipelines:\n" + string.Join("\n",
            Pipeline("a", "{ type: file }"),
            Pipeline("bb", "{ type: kafka }"),
            Pipeline("ccc", "{ type: kafka, settings: { topc: x } }"),
            Pipeline("dddd", "{ type: redis }"),
            Pipeline("eeeee", "{ type: kafka, settings: { client: { no.such.setting: 1 } } }"),
            // each value is fine on its own; librdkafka refuses the combination (idempotence needs acks=all)
            Pipeline("ffffff", "{ type: kafka, settings: { client: { acks: \"1\" } } }")), Path.Combine(dir, "pluginhost.yaml"), new Dictionary<string, string>());
        var error = Assert.Throws<ConfigException>(() => Cli.RunCommand.ValidateSinks(config, sinks));
        var messages = error.Errors.Select(e => $"{e.Pipeline}: {e.Key}: {e.Message}").ToList();
        Assert.Equal(4, messages.Count);
        Assert.Contains(messages, m => m.StartsWith("eeeee: checkpoint.settings.client: no.such.setting:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("ffffff: checkpoint.settings.client:", StringComparison.Ordinal) && m.Contains("acks", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("ccc: checkpoint.settings.topc: unknown setting", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("dddd: checkpoint.type: unknown checkpoint store 'redis' (known: file, kafka, prensio)", StringComparison.Ordinal));
    }
}
