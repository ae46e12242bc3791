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

    [LoggerMessage(EventIds.ClusterDefinitionsRead, LogLevel.Information, "cluster: {Count} pipeline definition(s) read from topic {Topic}")]
    public static partial void DefinitionsRead(this ILogger logger, int count, string topic);

    [LoggerMessage(EventIds.ClusterDefinitionRefused, LogLevel.Error, "cluster: {Reason}")]
    public static partial void DefinitionRefused(this ILogger logger, string reason);

    [LoggerMessage(EventIds.ClusterPlaintextSecret, LogLevel.Warning, "cluster: pipeline {Pipeline}: {Keys} written to topic {Topic} as sent (plain text); use ${{ENV}} references to keep secrets out of the topic")]
    public static partial void PlaintextSecret(this ILogger logger, string pipeline, string keys, string topic);

    [LoggerMessage(EventIds.ClusterForwarded, LogLevel.Information, "cluster: {Method} {Path} forwarded to node {Node} ({Url}): {Status}")]
    public static partial void Forwarded(this ILogger logger, string method, string path, string node, string url, int status);
}
