using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Plugins.Kafka;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Kafka;

/// <summary>Pipelines from the shared MariaDB into the mock cluster, run in-process by a <see cref="PipelineManager"/>.</summary>
internal static class KafkaPipelineKit
{
    private static int _serverId = 8300;

    public static string Start(MariaDbServer db)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return $"{{ file: {f[0]}, pos: {f[1].Trim()} }}";
    }

    /// <summary>One pipeline's YAML (for the <c>pipelines:</c> list) reading <paramref name="database"/> into Kafka.</summary>
    public static string PipelineYaml(MariaDbServer db, string name, string database, string start, string sink, string checkpoint = "{ type: file }") => $$"""
          - name: {{name}}
            source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Interlocked.Increment(ref _serverId)}}, start: {{start}}, ssl: none, heartbeat: 1s, connect_timeout: 5s }
            filter: { include: ["{{database}}.*"] }
            batch_size: 500
            sink: {{sink}}
            checkpoint: {{checkpoint}}
        """;

    public static HostConfig MakeConfig(string dir, params string[] pipelines) =>
        ConfigLoader.Parse($"state_dir: {dir}/state\nserver: {{ enabled: false }}\npipelines:\n{string.Join("\n", pipelines)}\n",
            Path.Combine(dir, "pluginhost.yaml"), new Dictionary<string, string>());

    /// <summary>A sink catalog with the built-in sinks and the Kafka plugin's factory (as the plugin loader would register it).</summary>
    public static SinkCatalog Sinks()
    {
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        sinks.Register(new KafkaSinkFactory(), "test: PluginHost.Plugins.Kafka");
        return sinks;
    }

    public static PipelineManager Manager(HostConfig config, ITestOutputHelper output)
    {
        var sinks = Sinks();
        Cli.RunCommand.ValidateSinks(config, sinks); // as `pluginhost run` does: sink and checkpoint settings, all together
        return new PipelineManager(config, sinks, new FileCheckpointStore(config.StateDirectory), new RecordingLoggerProvider(output, LogLevel.Information), null,
            new CheckpointStoreCatalog(sinks),
            new BinlogClientTuning(o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500) }));
    }

    public static Task WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(condition, timeout ?? TimeSpan.FromSeconds(30), () => what, 100);

    /// <summary>Reads a topic, or nothing when it does not exist yet.</summary>
    public static List<KafkaRecord> Read(KafkaMockCluster cluster, string topic)
    {
        try
        {
            return cluster.ReadAll(topic, TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException e) when (e.Message.Contains("Unknown topic", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("UnknownTopic", StringComparison.Ordinal))
        {
            return [];
        }
    }

    /// <summary>A record's change as "id:op:n" (event JSON).</summary>
    public static string Change(KafkaRecord r)
    {
        var e = JsonNode.Parse(r.Value!)!;
        var op = e["op"]!.GetValue<string>();
        var image = e[op == "delete" ? "before" : "after"]!;
        return $"{image["id"]}:{op}:{image["n"]?.ToJsonString()}";
    }

    public static long Id(KafkaRecord r)
    {
        var e = JsonNode.Parse(r.Value!)!;
        return e[e["op"]!.GetValue<string>() == "delete" ? "before" : "after"]!["id"]!.GetValue<long>();
    }

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
