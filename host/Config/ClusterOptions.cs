namespace PluginHost.Config;

/// <summary><c>cluster:</c> — several hosts share the pipelines through Kafka (docs/cluster.md). Absent: one process.</summary>
internal sealed class ClusterOptions
{
    /// <summary>Nodes with the same name share the pipelines; names the group and the cluster's topics.</summary>
    public string Name { get; set; } = "";

    public ClusterKafkaOptions Kafka { get; set; } = new();

    /// <summary>This node's id; default: host name and process id.</summary>
    public string? NodeId { get; set; }

    /// <summary>Partitions of the slots topic: the units the group shares out (pipelines are placed in slots).</summary>
    public int Slots { get; set; } = 64;

    /// <summary>How long the group waits for a silent node before its pipelines move.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The URL other nodes and callers reach this node's REST API at (shown in <c>GET /cluster</c>).</summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>The node id in force.</summary>
    public string EffectiveNodeId => string.IsNullOrWhiteSpace(NodeId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : NodeId;

    /// <summary>The compacted topic holding the cluster's checkpoints.</summary>
    public string CheckpointTopic => Name + ".checkpoints";

    /// <summary>The pipeline's <c>transactional.id</c>: belongs to the pipeline, not the node, so a new owner fences the old.</summary>
    public string TransactionalId(string pipeline) => $"{Name}-{pipeline}";

    /// <summary>How long a node goes on without confirming its membership before it stops its pipelines itself.</summary>
    public TimeSpan SelfFenceAfter => SessionTimeout - TimeSpan.FromMilliseconds(Math.Max(1000, SessionTimeout.TotalMilliseconds / 4));
}

/// <summary><c>cluster.kafka</c>.</summary>
internal sealed class ClusterKafkaOptions
{
    public string BootstrapServers { get; set; } = "";

    /// <summary>librdkafka settings for every client of the cluster (membership, checkpoints).</summary>
    public Dictionary<string, string> Client { get; set; } = [];
}
