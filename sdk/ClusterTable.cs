using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>
/// A keyed table the nodes of a cluster share, which a plugin provides (the Kafka plugin, on a compacted topic): every
/// node writes records (the last per key wins, a null value deletes the key) and reads every record in order.
/// </summary>
public interface IClusterTableFactory
{
    /// <summary>The coordination system, e.g. <c>kafka</c>.</summary>
    string Type { get; }

    /// <summary>Creates (does not yet read) the table. Throw <see cref="SinkConfigurationException"/> for bad settings.</summary>
    IClusterTable Create(ClusterTableContext context);
}

/// <summary>What a shared table is made from.</summary>
public sealed class ClusterTableContext
{
    public ClusterTableContext(string cluster, string nodeId, string table, TimeSpan timeout, JsonElement settings, IPluginLogger logger)
    {
        Cluster = cluster;
        NodeId = nodeId;
        Table = table;
        Timeout = timeout;
        Settings = settings;
        Logger = logger;
    }

    /// <summary>The cluster's name.</summary>
    public string Cluster { get; }

    /// <summary>This node's id.</summary>
    public string NodeId { get; }

    /// <summary>The table's name within the cluster (for Kafka the topic is <c>&lt;cluster&gt;.&lt;table&gt;</c>).</summary>
    public string Table { get; }

    /// <summary>How long a read to the end or a write may take before it fails.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The system's own settings (for Kafka: <c>bootstrap_servers</c>, <c>client</c>).</summary>
    public JsonElement Settings { get; }

    public IPluginLogger Logger { get; }
}

/// <summary>One node's view of a shared table.</summary>
public interface IClusterTable : IAsyncDisposable
{
    /// <summary>Where the table is kept (for Kafka the topic), for messages.</summary>
    string Location { get; }

    /// <summary>
    /// Reads the whole table as it is now (the last value of each key; deleted keys left out), then calls
    /// <paramref name="changed"/> for every later record in order, on one thread of the table (null value: deleted),
    /// until disposed. Throws when the table cannot be read within the timeout.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> StartAsync(Action<string, string?> changed, CancellationToken cancellationToken);

    /// <summary>Writes a record (null: deletes the key); returns once the system acknowledged it, throws otherwise.</summary>
    Task PutAsync(string key, string? value, CancellationToken cancellationToken);
}
