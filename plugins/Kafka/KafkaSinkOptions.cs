namespace PluginHost.Plugins.Kafka;

/// <summary>The value format of the Kafka sink.</summary>
public enum KafkaFormat
{
    /// <summary>The event JSON every PluginHost sink writes.</summary>
    Json,
    /// <summary>Debezium's change-event envelope (<c>before</c>, <c>after</c>, <c>source</c>, <c>op</c>, <c>ts_ms</c>).</summary>
    Debezium,
    /// <summary>go-mysql-kafka's (prensio's) <c>cdc_event</c>, keyed by the primary-key values joined with <c>.</c>.</summary>
    Prensio,
}

/// <summary>
/// <c>sink: { type: kafka, … }</c>. Every key is optional except <c>bootstrap_servers</c>; <c>producer:</c> passes
/// any librdkafka producer setting through (<c>linger.ms</c>, <c>compression.type</c>, <c>security.protocol</c>, …).
/// </summary>
public sealed class KafkaSinkOptions
{
    /// <summary><c>host:port[,host:port…]</c> of one or more brokers.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>Topic template: <c>{database}</c>, <c>{table}</c> and <c>{pipeline}</c> are replaced; a transform's <c>Destination</c> wins.</summary>
    public string Topic { get; set; } = "{database}.{table}";

    public KafkaFormat Format { get; set; } = KafkaFormat.Json;

    /// <summary>Create each topic (with <see cref="Partitions"/>, <see cref="ReplicationFactor"/>, <see cref="TopicConfig"/>) the first time it is used.</summary>
    public bool CreateTopics { get; set; } = true;

    /// <summary>Partitions of topics the sink creates; -1 for the broker's default.</summary>
    public int Partitions { get; set; } = 6;

    /// <summary>Replication factor of topics the sink creates; -1 for the broker's default.</summary>
    public int ReplicationFactor { get; set; } = -1;

    /// <summary>Topic-level settings of topics the sink creates (e.g. <c>retention.ms</c>, <c>cleanup.policy</c>).</summary>
    public Dictionary<string, string> TopicConfig { get; set; } = [];

    /// <summary>After a delete, also send a tombstone (same key, null value) so compacted topics drop the row.</summary>
    public bool Tombstones { get; set; }

    /// <summary>
    /// How long a flush waits for acknowledgements before it reports the delay (the host shows the pipeline as
    /// retrying and asks again; the messages stay queued, nothing is re-sent).
    /// </summary>
    public TimeSpan FlushTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Message headers to send: any of <c>op</c>, <c>pipeline</c>, <c>gtid</c>, <c>position</c> (all by default; <c>[]</c> for none).</summary>
    public List<string> Headers { get; set; } = ["op", "pipeline", "gtid", "position"];

    /// <summary>
    /// Exactly once: the events of many transactions and the pipeline's checkpoint are committed in one Kafka
    /// transaction (the checkpoint must be in Kafka, on the same cluster; its transactional id is the producer's).
    /// </summary>
    public bool ExactlyOnce { get; set; }

    /// <summary>With <see cref="ExactlyOnce"/>: how long a Kafka transaction collects events before it commits (at the next transaction end).</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>librdkafka producer settings, passed through as given (they override the sink's defaults).</summary>
    public Dictionary<string, string> Producer { get; set; } = [];
}
