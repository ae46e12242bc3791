namespace PluginHost.Plugins.Kafka;

/// <summary><c>checkpoint: { type: kafka, settings: { … } }</c>.</summary>
public sealed class KafkaCheckpointOptions
{
    /// <summary>Brokers; defaults to the pipeline's Kafka sink <c>bootstrap_servers</c>.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The compacted topic holding one record per pipeline (key: pipeline name).</summary>
    public string Topic { get; set; } = "pluginhost.state";

    /// <summary>Create the topic (compacted) if it does not exist.</summary>
    public bool CreateTopic { get; set; } = true;

    /// <summary>Partitions of the state topic when created (do not change it later: a key's partition depends on it).</summary>
    public int Partitions { get; set; } = 1;

    /// <summary>Replication factor of the state topic when created; -1 for the broker's default.</summary>
    public int ReplicationFactor { get; set; } = -1;

    /// <summary>Topic-level settings when created; <c>cleanup.policy=compact</c> is always set.</summary>
    public Dictionary<string, string> TopicConfig { get; set; } = [];

    /// <summary>librdkafka settings for the store's producer and consumer (e.g. <c>security.protocol</c>, <c>sasl.*</c>).</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>
    /// Saves go through a transactional producer with this <c>transactional.id</c> (cluster mode sets
    /// <c>&lt;cluster&gt;-&lt;pipeline&gt;</c>): a newer store with the same id fences this one, whose saves then fail.
    /// </summary>
    public string? TransactionalId { get; set; }

    /// <summary>How long one save (or one read at start) may take before it fails (a failed save holds the pipeline).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
