using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>Shared client plumbing: configuration merging, librdkafka logs and errors routed to the plugin logger.</summary>
internal static class KafkaClients
{
    /// <summary>
    /// The producer settings PluginHost needs for at-least-once, ordered delivery; user settings override them.
    /// <c>message.timeout.ms=0</c>: never give up on a message while the cluster is unreachable (hold, never drop).
    /// </summary>
    public static Dictionary<string, string> ReliableProducerDefaults(string bootstrapServers, string clientId) => new(StringComparer.Ordinal)
    {
        ["bootstrap.servers"] = bootstrapServers,
        ["client.id"] = clientId,
        ["acks"] = "all",
        ["enable.idempotence"] = "true",
        ["max.in.flight.requests.per.connection"] = "5",
        ["partitioner"] = "murmur2_random",
        ["linger.ms"] = "5",
        ["message.timeout.ms"] = "0",
        ["dotnet.producer.delivery.report.fields"] = "none",
    };

    /// <summary>
    /// A standalone admin client on the same cluster, with the same connection and security settings as
    /// <paramref name="clientConfig"/>. (Standalone since a dependent one spun a core under Confluent.Kafka 1.9 on
    /// librdkafka 2.0; on 2.16 an idle dependent one costs nothing, see docs/kafka.md, "Admin clients".)
    /// </summary>
    public static IAdminClient BuildAdmin(IReadOnlyDictionary<string, string> clientConfig, IPluginLogger logger)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in clientConfig)
            if (!key.StartsWith("dotnet.", StringComparison.Ordinal) && key is not ("enable.idempotence" or "transactional.id"))
                config[key] = value;
        if (config.TryGetValue("client.id", out var id)) config["client.id"] = id + "-admin";
        return new AdminClientBuilder(config).SetLogHandler(LogHandler(logger)).Build();
    }

    /// <summary>Warns about user settings that weaken delivery guarantees.</summary>
    public static void WarnAboutWeakSettings(IReadOnlyDictionary<string, string> user, IPluginLogger logger, string where)
    {
        foreach (var (key, value) in user)
        {
            var v = value.Trim().ToLowerInvariant();
            var weak = key switch
            {
                "acks" or "request.required.acks" => v is not ("all" or "-1"),
                "enable.idempotence" => v is "false" or "0",
                "message.timeout.ms" or "delivery.timeout.ms" => v != "0",
                "partitioner" => v is not ("murmur2_random" or "murmur2"),
                _ => false,
            };
            if (weak)
                logger.Warning($"{where}.{key}: {value} overrides PluginHost's default; " + key switch
                {
                    "partitioner" => "one row's changes may land on different partitions (order per row is lost, and the Java client's partitioning no longer matches)",
                    "message.timeout.ms" or "delivery.timeout.ms" => "messages that time out are re-sent from the first failure (duplicates possible, nothing lost)",
                    _ => "delivery may be lost or reordered when a broker fails",
                });
        }
    }

    /// <summary>Routes librdkafka's own log lines (warnings and worse) to the plugin log, at most one per facility every 10 s.</summary>
    public static Action<IClient, LogMessage> LogHandler(IPluginLogger logger)
    {
        var throttle = new Throttle(TimeSpan.FromSeconds(10));
        return (_, m) =>
        {
            if (m.Level > SyslogLevel.Warning || !throttle.Allow(m.Facility)) return;
            logger.Warning($"librdkafka {m.Facility}: {m.Message}");
        };
    }

    /// <summary>A small per-key rate limiter for log lines.</summary>
    internal sealed class Throttle(TimeSpan interval)
    {
        private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

        public bool Allow(string key)
        {
            var now = Environment.TickCount64;
            lock (_last)
            {
                if (_last.TryGetValue(key, out var at) && now - at < interval.TotalMilliseconds) return false;
                _last[key] = now;
                return true;
            }
        }
    }

    /// <summary>Errors worth retrying: the cluster or the network is unavailable for now.</summary>
    public static bool IsTransient(Error e) => !e.IsFatal && e.Code is
        ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_TimedOut or ErrorCode.RequestTimedOut or
        ErrorCode.Local_MsgTimedOut or ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderForPartition or ErrorCode.BrokerNotAvailable or
        ErrorCode.NetworkException or ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend or
        ErrorCode.Local_WaitCoord or ErrorCode.Local_Resolve or ErrorCode.Local_UnknownPartition or ErrorCode.UnknownTopicOrPart or
        ErrorCode.Local_Partial or ErrorCode.Local_Retry or ErrorCode.Local_NoOffset or
        ErrorCode.Local_TimedOutQueue or ErrorCode.Local_Outdated or ErrorCode.KafkaStorageError;

    /// <summary>Names a <see cref="ErrorCode"/> for messages: the reason, plus the code when the reason does not say it.</summary>
    public static string Describe(Error e) => string.IsNullOrEmpty(e.Reason) ? e.Code.ToString() : $"{e.Reason} ({e.Code})";
}
