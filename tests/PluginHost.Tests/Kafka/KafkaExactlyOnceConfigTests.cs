using PluginHost.Config;

namespace PluginHost.Tests.Kafka;

/// <summary><c>exactly_once: true</c> where it cannot work is a configuration error naming the key.</summary>
public sealed class KafkaExactlyOnceConfigTests
{
    private static readonly Dictionary<string, string> NoEnv = [];

    private static int _serverId = 300;

    private static string Pipeline(string name, string sink, string checkpoint = "") =>
        $"  - name: {name}\n    source: {{ host: 127.0.0.1, user: root, server_id: {Interlocked.Increment(ref _serverId)} }}\n    sink: {sink}\n" +
        (checkpoint.Length > 0 ? $"    checkpoint: {checkpoint}\n" : "");

    [Fact]
    public void Exactly_once_with_a_file_checkpoint_is_refused_naming_the_key()
    {
        var yaml = "pipelines:\n" + Pipeline("p1", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true }") +
                   Pipeline("p2", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true }", "{ type: file }");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "pluginhost.yaml", NoEnv));
        var messages = e.Errors.Select(x => $"{x.Pipeline}: {x.Key}: {x.Message}").ToList();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Contains(": sink.exactly_once: needs the checkpoint in Kafka", m));
    }

    [Fact]
    public void Exactly_once_with_the_checkpoint_in_kafka_or_without_it_loads()
    {
        var yaml = "pipelines:\n" + Pipeline("p1", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true }", "{ type: kafka }") +
                   Pipeline("p2", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: false }");
        var config = ConfigLoader.Parse(yaml, "pluginhost.yaml", NoEnv);
        Assert.Equal(2, config.Pipelines.Count);
    }

    [Fact]
    public void Exactly_once_with_the_checkpoint_on_another_kafka_cluster_is_refused_naming_the_key()
    {
        var sinks = KafkaPipelineKit.Sinks();
        var dir = Path.GetTempPath();
        var yaml = $"state_dir: {dir}/state\npipelines:\n" +
                   Pipeline("p1", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true }", "{ type: kafka, settings: { bootstrap_servers: \"other:9092\" } }") +
                   Pipeline("p2", "{ type: kafka, bootstrap_servers: \"k1:9092,k2:9092\", exactly_once: true }", "{ type: kafka, settings: { bootstrap_servers: \"K2:9092\" } }") +
                   Pipeline("p3", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true, commit_interval: 0s }", "{ type: kafka }");
        var config = ConfigLoader.Parse(yaml, Path.Combine(dir, "pluginhost.yaml"), NoEnv);
        var e = Assert.Throws<ConfigException>(() => Cli.RunCommand.ValidateSinks(config, sinks));
        var messages = e.Errors.Select(x => $"{x.Pipeline}: {x.Key}: {x.Message}").ToList();
        Assert.Equal(2, messages.Count);
        Assert.Contains(messages, m => m.StartsWith("p1: checkpoint.settings.bootstrap_servers: 'other:9092' is not the Kafka cluster of the sink", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("p3: sink.commit_interval: must be 1ms-1m", StringComparison.Ordinal));
    }

    [Fact]
    public void In_cluster_mode_exactly_once_uses_the_cluster_s_checkpoint_and_refuses_a_sink_on_another_cluster()
    {
        var sinks = KafkaPipelineKit.Sinks();
        var dir = Path.GetTempPath();
        var yaml = $"state_dir: {dir}/state\ncluster: {{ name: c1, kafka: {{ bootstrap_servers: \"k1:9092\" }} }}\npipelines:\n" +
                   Pipeline("p1", "{ type: kafka, bootstrap_servers: \"k1:9092\", exactly_once: true }") +
                   Pipeline("p2", "{ type: kafka, bootstrap_servers: \"elsewhere:9092\", exactly_once: true }");
        var config = ConfigLoader.Parse(yaml, Path.Combine(dir, "pluginhost.yaml"), NoEnv);
        var e = Assert.Throws<ConfigException>(() => Cli.RunCommand.ValidateSinks(config, sinks));
        var message = Assert.Single(e.Errors.Select(x => $"{x.Pipeline}: {x.Key}: {x.Message}"));
        Assert.StartsWith("p2: checkpoint.settings.bootstrap_servers: 'k1:9092' is not the Kafka cluster of the sink ('elsewhere:9092')", message);
    }
}
