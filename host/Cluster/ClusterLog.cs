using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Cluster;

/// <summary>The log lines of the Cluster room (event ids 10000-10999).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventIds.ClusterJoining, LogLevel.Information, "cluster {Cluster}: node {Node} joining ({Slots} slots, session timeout {Session})")]
    public static partial void Joining(this ILogger logger, string cluster, string node, int slots, TimeSpan session);

    [LoggerMessage(EventIds.ClusterAssigned, LogLevel.Information, "cluster: slots {Slots} assigned to this node; it runs {Pipelines}")]
    public static partial void Assigned(this ILogger logger, string slots, string pipelines);

    [LoggerMessage(EventIds.ClusterRevoked, LogLevel.Information, "cluster: slots {Slots} {How}; their pipelines stop here")]
    public static partial void Revoked(this ILogger logger, string slots, string how);

    [LoggerMessage(EventIds.ClusterSelfFenced, LogLevel.Warning, "cluster: no confirmation of this node's membership for {Seconds:0.0} s ({Why}): it stops its pipelines before another node may start them")]
    public static partial void SelfFenced(this ILogger logger, double seconds, string why);

    [LoggerMessage(EventIds.ClusterRejoining, LogLevel.Information, "cluster: membership confirmed again; rejoining the group for a fresh assignment")]
    public static partial void Rejoining(this ILogger logger);

    [LoggerMessage(EventIds.ClusterTrouble, LogLevel.Warning, "cluster: {Reason}")]
    public static partial void Trouble(this ILogger logger, string reason);

    [LoggerMessage(EventIds.ClusterNoMembership, LogLevel.Error, "cluster: cannot join: {Reason}; this node runs no pipeline")]
    public static partial void NoMembership(this ILogger logger, string reason);
}
