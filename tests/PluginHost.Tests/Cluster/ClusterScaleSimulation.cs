using System.Diagnostics;
using System.Text.Json;
using PluginHost.Cluster;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Cluster;

/// <summary>
/// The scale simulation of docs/cluster.md: ten memberships (the real Kafka plugin's, in this process) share 512 slots
/// holding 500 pipelines on the mock cluster. Measured: time to a stable first assignment, the rebalance when a node
/// leaves and when it joins again (only its share moves), the placement's cost, and the memberships' CPU.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClusterScaleSimulation(ITestOutputHelper output)
{
    private const int Nodes = 10, Slots = 512, PipelineCount = 500;

    private sealed class Node(string id) : IClusterListener
    {
        public readonly HashSet<int> Slots = [];
        public string Id => id;
        public DateTime LastChange = DateTime.UtcNow;
        public IClusterMembership? Membership;

        public void Assigned(IReadOnlyList<int> slots) { lock (Slots) { Slots.UnionWith(slots); LastChange = DateTime.UtcNow; } }
        public void Revoked(IReadOnlyList<int> slots, bool lost) { lock (Slots) { Slots.ExceptWith(slots); LastChange = DateTime.UtcNow; } }
        public void Confirmed(DateTimeOffset at) { }
        public void Trouble(string reason) { }
        public int[] Snapshot() { lock (Slots) return Slots.ToArray(); }
    }

    private static Node Join(KafkaMockCluster kafka, string id)
    {
        var settings = JsonSerializer.SerializeToElement(new { bootstrap_servers = kafka.BootstrapServers });
        var node = new Node(id);
        node.Membership = new KafkaClusterMembershipFactory().Create(new ClusterMembershipContext("sim", id, Slots, TimeSpan.FromSeconds(6), settings, new NullPluginLogger()));
        node.Membership.Start(node);
        return node;
    }

    private static async Task<TimeSpan> Stable(IReadOnlyList<Node> nodes, Stopwatch sw)
    {
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            var all = nodes.SelectMany(n => n.Snapshot()).ToList();
            if (all.Count == Slots && all.Distinct().Count() == Slots && nodes.All(n => n.Snapshot().Length >= Slots / nodes.Count))
                return sw.Elapsed;
            await Task.Delay(50);
        }
        throw new TimeoutException("no stable assignment: " + string.Join(",", nodes.Select(n => n.Snapshot().Length)));
    }

    [Fact]
    public async Task Five_hundred_pipelines_on_ten_nodes()
    {
        using var kafka = new KafkaMockCluster();
        kafka.CreateTopic("sim.slots", Slots);
        var names = Enumerable.Range(1, PipelineCount).Select(i => $"db{i:000}.orders").ToList();
        var place = Stopwatch.StartNew();
        var placement = SlotMap.Place(names, Slots);
        var placeMs = place.Elapsed.TotalMilliseconds;
        Assert.Equal(PipelineCount, placement.Values.Distinct().Count());

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var nodes = Enumerable.Range(1, Nodes).Select(i => Join(kafka, $"n{i}")).ToList();
        var first = await Stable(nodes, sw);
        int Pipelines(Node n) => n.Snapshot().Count(s => placement.ContainsValue(s));
        output.WriteLine($"first assignment of {Slots} slots to {Nodes} nodes: {first.TotalSeconds:0.0} s; pipelines per node {string.Join(",", nodes.Select(Pipelines))}; placement of {PipelineCount} pipelines {placeMs:0.0} ms");

        // Steady state: what ten memberships cost (heartbeats, statistics) over 10 s.
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var steadyCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu1).TotalMilliseconds / 10 / Nodes;
        output.WriteLine($"steady state: {steadyCpu:0.0} ms CPU per node per second (memberships only, this process also runs the mock brokers)");

        // A node leaves: only its slots move; nobody else loses one.
        var before = nodes.ToDictionary(n => n.Id, n => n.Snapshot().ToHashSet());
        var leaving = nodes[3];
        sw.Restart();
        await leaving.Membership!.DisposeAsync();
        var rest = nodes.Where(n => n != leaving).ToList();
        var left = await Stable(rest, sw);
        foreach (var n in rest) Assert.Subset(n.Snapshot().ToHashSet(), before[n.Id]);
        output.WriteLine($"node left: {before[leaving.Id].Count} slots moved in {left.TotalSeconds:0.0} s; slots per node {string.Join(",", rest.Select(n => n.Snapshot().Length))}");

        // It joins again: it takes a share back, the others give only that.
        var mid = rest.ToDictionary(n => n.Id, n => n.Snapshot().ToHashSet());
        sw.Restart();
        var again = Join(kafka, leaving.Id + "b");
        var all = rest.Append(again).ToList();
        var joined = await Stable(all, sw);
        var moved = rest.Sum(n => mid[n.Id].Count - n.Snapshot().Length);
        foreach (var n in rest) Assert.Subset(mid[n.Id], n.Snapshot().ToHashSet());
        Assert.Equal(again.Snapshot().Length, moved);
        output.WriteLine($"node joined: {moved} slots moved in {joined.TotalSeconds:0.0} s; total CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds:0.0} s");
        foreach (var n in all) await n.Membership!.DisposeAsync();
    }
}
