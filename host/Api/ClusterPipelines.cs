using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PluginHost.Cluster;
using PluginHost.Control;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary>
/// Cluster-wide pipelines for <c>GET /pipelines</c>, <c>/health</c> and the dashboard: this node's own as they are,
/// those another node runs as that node last published them (topic <c>&lt;name&gt;.status</c>, see
/// <see cref="ClusterStatusBoard"/>), and <c>unknown</c> when no node did lately. Never asks another node: no call waits.
/// </summary>
internal sealed class ClusterPipelines(PipelineControl control, HostTelemetry telemetry, SinkCatalog sinks, IServiceProvider services)
{
    private readonly ClusterNode? _node = services.GetService<ClusterNode>();
    private readonly PluginManager? _plugins = services.GetService<PluginManager>();

    /// <summary>This node's id in cluster mode, else null.</summary>
    public string? Self => _node?.Options.EffectiveNodeId;

    public List<PipelineInfo> List(bool withConfig = false) => control.List().Select(s => Show(s, withConfig)).ToList();

    /// <summary>A pipeline as shown on this node.</summary>
    public PipelineInfo Show(PipelineSnapshot s, bool withConfig) => Elsewhere(s, withConfig) ?? ApiModels.Build(s, telemetry, sinks, _plugins, withConfig) with { Node = Self };

    /// <summary>A pipeline another node runs (as it reported it, or unknown); null when it is this node's (or not in cluster mode).</summary>
    public PipelineInfo? Elsewhere(PipelineSnapshot s, bool withConfig = false)
    {
        if (_node is null || s.Entry.Definition is null || _node.RunsHere(s.Name)) return null;
        var local = ApiModels.Build(s, telemetry, sinks, _plugins, withConfig);
        if (_node.Board is not { } board) return null; // no statuses to read: this node's view (listed as running elsewhere)
        if (board.Find(s.Name) is { } report && Read(report.Status) is { } remote)
            return remote with { Node = report.Node, Config = local.Config, Origin = local.Origin };
        return local with
        {
            State = "unknown",
            Node = null,
            LastError = new ErrorInfo($"no node of cluster '{_node.Options.Name}' reported running it in the last {board.FreshFor.TotalSeconds:0} s " +
                                      "(it is moving to another node, or its node is down or cut off from Kafka)", null),
        };
    }

    /// <summary>The statuses this node publishes for the pipelines it runs.</summary>
    public IReadOnlyDictionary<string, JsonObject> Statuses(IReadOnlyList<string> names)
    {
        var result = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var name in names)
            if (control.Find(name) is { } s &&
                JsonSerializer.SerializeToNode(ApiModels.Build(s, telemetry, sinks, _plugins, false) with { Node = Self }, ApiJson.Options) is JsonObject o)
                result[name] = o;
        return result;
    }

    private static PipelineInfo? Read(JsonObject status)
    {
        try
        {
            return status.Deserialize<PipelineInfo>(ApiJson.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }
}
