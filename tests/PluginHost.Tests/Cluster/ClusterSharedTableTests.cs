using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Cluster;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Cluster;

/// <summary>
/// The Kafka plugin's shared table and the status board on it, on the mock cluster: start reads the whole topic (last
/// record per key, tombstones delete) and then follows it; a node's published statuses are believed while fresh and a
/// node that stops publishing (dead, cut off, stopped) is no longer named as running its pipelines.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClusterSharedTableTests
{
    private sealed class NoLog : IPluginLogger
    {
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Error(string message, Exception? exception = null) { }
    }

    private static IClusterTable Table(KafkaMockCluster kafka, string node, string table) =>
        new KafkaClusterTableFactory().Create(new ClusterTableContext("sh", node, table, TimeSpan.FromSeconds(10),
            JsonSerializer.SerializeToElement(new { bootstrap_servers = kafka.BootstrapServers }), new NoLog()));

    [Fact]
    public async Task Start_reads_the_last_record_of_each_key_then_follows_every_later_record_in_order()
    {
        using var kafka = new KafkaMockCluster();
        kafka.CreateTopic("sh.pipelines", 1);
        await using (var writer = Table(kafka, "w", "pipelines"))
        {
            await writer.PutAsync("p1", "{\"v\":1}", CancellationToken.None);
            await writer.PutAsync("p2", "{\"v\":1}", CancellationToken.None);
            await writer.PutAsync("p1", "{\"v\":2}", CancellationToken.None);
            await writer.PutAsync("p2", null, CancellationToken.None);
            await writer.PutAsync("p3", "{\"v\":1}", CancellationToken.None);
        }
        var later = new List<string>();
        await using var reader = Table(kafka, "r", "pipelines");
        var all = await reader.StartAsync((k, v) => { lock (later) later.Add($"{k}={v ?? "(deleted)"}"); }, CancellationToken.None);
        Assert.Equal(new Dictionary<string, string> { ["p1"] = "{\"v\":2}", ["p3"] = "{\"v\":1}" }, all.ToDictionary(kv => kv.Key, kv => kv.Value));
        await reader.PutAsync("p3", null, CancellationToken.None);
        await reader.PutAsync("p4", "{\"v\":1}", CancellationToken.None);
        var sw = Stopwatch.StartNew();
        while (later.Count < 2 && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
        lock (later) Assert.Equal(["p3=(deleted)", "p4={\"v\":1}"], later);
    }

    [Fact]
    public async Task Another_node_s_status_is_believed_while_it_publishes_and_not_once_it_stops()
    {
        using var kafka = new KafkaMockCluster();
        kafka.CreateTopic("sh.status", 1);
        var session = TimeSpan.FromSeconds(1);
        await using var mine = new ClusterStatusBoard(Table(kafka, "me", "status"), "me", "http://me", session, NullLogger.Instance);
        await mine.StartAsync(CancellationToken.None);
        var other = new ClusterStatusBoard(Table(kafka, "other", "status"), "other", "http://other:8080", session, NullLogger.Instance)
        {
            Source = () => new Dictionary<string, JsonObject> { ["p1"] = new() { ["name"] = "p1", ["state"] = "running" } },
        };
        await other.StartAsync(CancellationToken.None);
        other.Nudge();
        var sw = Stopwatch.StartNew();
        PipelineReport? seen = null;
        while ((seen = mine.Find("p1")) is null && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
        Assert.NotNull(seen);
        Assert.Equal("other", seen.Node);
        Assert.Equal("http://other:8080", seen.Url);
        Assert.Equal("running", seen.Status["state"]!.GetValue<string>());
        Assert.Null(other.Find("p1")); // a node never takes its own report for another's

        await other.DisposeAsync(); // it stops publishing (gone, cut off or stopped)
        var gone = Stopwatch.StartNew();
        while (mine.Find("p1") != null && gone.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.Null(mine.Find("p1"));
        Assert.InRange(gone.Elapsed, TimeSpan.Zero, mine.FreshFor + TimeSpan.FromSeconds(1));
    }
}
