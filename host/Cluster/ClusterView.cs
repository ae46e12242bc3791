namespace PluginHost.Cluster;

/// <summary>What <c>GET /cluster</c> shows of this node's membership (immutable; a new one per change).</summary>
internal sealed record ClusterView(
    string Cluster,
    string NodeId,
    string? AdvertisedUrl,
    string MemberId,
    IReadOnlyList<int> Slots,
    IReadOnlyList<string> Pipelines,
    long Rebalances,
    DateTimeOffset? LastRebalance,
    DateTimeOffset? LastConfirmed,
    string? Fenced,
    IReadOnlyList<string>? Members);
