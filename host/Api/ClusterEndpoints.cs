using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PluginHost.Cluster;

namespace PluginHost.Api;

/// <summary><c>GET /cluster</c>: this node's membership and the pipelines it runs (read-only, like <c>GET /pipelines</c>).</summary>
internal static class ClusterEndpoints
{
    public static void MapClusterApi(this WebApplication app)
    {
        app.MapGet("/cluster", (IServiceProvider services) =>
            {
                if (services.GetService<ClusterNode>() is not { } node)
                    return Results.Problem("this host is not in cluster mode (no cluster: in its configuration)", statusCode: StatusCodes.Status404NotFound, title: "Not in cluster mode");
                var v = node.View();
                return Results.Json(new ClusterInfo(v.Cluster, v.NodeId, v.AdvertisedUrl, v.MemberId, v.Fenced is null ? "member" : "fenced", v.Fenced,
                    v.Members, v.Slots, v.Pipelines, v.Rebalances, v.LastRebalance, v.LastConfirmed, node.Options.Slots,
                    node.Options.SessionTimeout.TotalSeconds), ApiJson.Options);
            })
            .WithSummary("Cluster mode: this node's membership, the members, the slots and pipelines it runs, rebalances")
            .Produces<ClusterInfo>(200).WithTags("cluster");
    }
}

/// <param name="State">member, or fenced (this node stopped its pipelines: see <paramref name="Reason"/>).</param>
/// <param name="Members">Node ids of the group's members as the coordinator lists them (null when it does not answer).</param>
/// <param name="Rebalances">Assignments and revocations this node has seen.</param>
internal sealed record ClusterInfo(string Cluster, string NodeId, string? AdvertisedUrl, string MemberId, string State, string? Reason,
    IReadOnlyList<string>? Members, IReadOnlyList<int> Slots, IReadOnlyList<string> Pipelines, long Rebalances, DateTimeOffset? LastRebalance,
    DateTimeOffset? LastConfirmed, int SlotCount, double SessionTimeoutSeconds);
