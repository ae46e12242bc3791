using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>
/// Group membership for cluster mode, which a plugin provides (the Kafka plugin, on Kafka's consumer-group protocol):
/// the nodes of a cluster join one group and the group assigns each a share of a fixed number of slots.
/// </summary>
public interface IClusterMembershipFactory
{
    /// <summary>The coordination system, e.g. <c>kafka</c>.</summary>
    string Type { get; }

    /// <summary>Creates (does not yet join) the membership of this node. Throw <see cref="SinkConfigurationException"/> for bad settings.</summary>
    IClusterMembership Create(ClusterMembershipContext context);
}

/// <summary>What a membership is made from.</summary>
public sealed class ClusterMembershipContext
{
    public ClusterMembershipContext(string cluster, string nodeId, int slots, TimeSpan sessionTimeout, JsonElement settings, IPluginLogger logger)
    {
        Cluster = cluster;
        NodeId = nodeId;
        Slots = slots;
        SessionTimeout = sessionTimeout;
        Settings = settings;
        Logger = logger;
    }

    /// <summary>The cluster's name: nodes with the same name share the pipelines.</summary>
    public string Cluster { get; }

    /// <summary>This node's id (shown to the others).</summary>
    public string NodeId { get; }

    /// <summary>Number of slots the group shares out (slots 0…Slots-1).</summary>
    public int Slots { get; }

    /// <summary>How long the group waits for a silent member before giving its slots to others.</summary>
    public TimeSpan SessionTimeout { get; }

    /// <summary>The system's own settings (for Kafka: <c>bootstrap_servers</c>, <c>client</c>).</summary>
    public JsonElement Settings { get; }

    public IPluginLogger Logger { get; }
}

/// <summary>
/// One node's membership. Calls to the listener come from one thread of the membership, in order; a revocation returns
/// only when the listener returns (so the node stops the slots' work before another member is given them).
/// </summary>
public interface IClusterMembership : IAsyncDisposable
{
    /// <summary>Joins the group and keeps membership until disposed.</summary>
    void Start(IClusterListener listener);

    /// <summary>This member's id in the group (empty before joining).</summary>
    string MemberId { get; }

    /// <summary>The other members as far as this node knows them (node ids), or null when the system does not tell.</summary>
    IReadOnlyList<string>? Members();

    /// <summary>
    /// Leaves the group and joins again (after this node fenced itself: its slots are then all given out afresh).
    /// <paramref name="rejoined"/> runs on the membership's thread once the new subscription is made, before any
    /// assignment of it is delivered.
    /// </summary>
    void Rejoin(Action rejoined);
}

/// <summary>Receives a membership's changes.</summary>
public interface IClusterListener
{
    /// <summary>Slots added to this node.</summary>
    void Assigned(IReadOnlyList<int> slots);

    /// <summary>Slots taken from this node; <paramref name="lost"/> when the group may already have given them to another member.</summary>
    void Revoked(IReadOnlyList<int> slots, bool lost);

    /// <summary>The membership was confirmed (the coordinator answered) at this time.</summary>
    void Confirmed(DateTimeOffset at);

    /// <summary>The membership cannot be confirmed (e.g. no broker reachable): why.</summary>
    void Trouble(string reason);
}
