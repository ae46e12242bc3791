using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Cluster;

/// <summary>
/// Pipelines created over the REST API of any node of a cluster (real host processes on the mock Kafka cluster, real
/// MariaDB): kept in the cluster's pipelines topic, run on exactly one node, listed with their node by every node's
/// <c>GET /pipelines</c> and <c>/health</c>, kept across a restart of every node, deleted everywhere from any node;
/// calls for a pipeline another node runs are forwarded to it (the token checked); a name of the configuration file is
/// refused over the API and, found in the topic at start, logged with its key while the file's definition runs.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ClusterDefinitionsTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Token = "cluster-test-token-4f1d";
    private const string Db = "cdef";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(90) };

    [Fact]
    public async Task Api_pipelines_are_shared_by_every_node_run_once_forwarded_to_their_owner_and_survive_a_restart()
    {
        using var kafka = new KafkaMockCluster();
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; " +
               string.Concat(Enumerable.Range(0, 5).Select(i => $"CREATE TABLE {Db}.t{i} (id INT PRIMARY KEY, v INT NOT NULL);")));
        for (var i = 0; i < 5; i++) kafka.CreateTopic($"{Db}.t{i}", 1);
        kafka.CreateTopic($"{Db}.other", 1);
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var (file, pos) = (start[0], start[1].Trim());
        string Source(int id) => $$"""{ "host": "{{db.Host}}", "port": {{db.Port}}, "user": "root", "password": "", "server_id": {{id}}, "ssl": "none", "start": { "file": "{{file}}", "pos": {{pos}} } }""";
        string Sink() => $$"""{ "type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "create_topics": false, "flush_timeout": "2s" }""";
        string FileYaml(string name, int table, int id, string? transformTopic = null) => $$"""
              - name: {{name}}
                source: {{Source(id)}}
                filter: { include: ["{{Db}}.t{{table}}"] }
                batch_size: 20
                sink: {{(transformTopic is null ? Sink() : Sink().Replace("\"flush_timeout\"", $"\"topic\": \"{transformTopic}\", \"flush_timeout\""))}}
            """;
        string ApiJson(string name, int table, int id) =>
            $$"""{ "name": "{{name}}", "source": {{Source(id)}}, "filter": { "include": ["{{Db}}.t{{table}}"] }, "batch_size": 20, "sink": {{Sink()}} }""";

        using var kit = new ClusterKit(kafka, "cd1", FileYaml("f0", 0, 5300), slots: 8, session: TimeSpan.FromSeconds(4), token: Token);
        string[] nodes = ["a", "b", "c"];
        foreach (var n in nodes) kit.Start(n);
        await WaitForAllSlots(kit, nodes, 8);
        await kit.WaitForEachOnce(nodes, ["f0"], TimeSpan.FromSeconds(120));

        // Created over the API on three different nodes.
        string[] api = ["api1", "api2", "api3"];
        for (var i = 0; i < api.Length; i++)
        {
            var (status, body, _) = await Call(kit, nodes[i], HttpMethod.Post, "/pipelines", ApiJson(api[i], i + 1, 5301 + i));
            Assert.True(status == HttpStatusCode.Created, $"POST {api[i]} on {nodes[i]}: {status} {body}\n{kit.Logs()}");
        }
        string[] all = ["f0", .. api];
        var owners = await kit.WaitForEachOnce(nodes, all, TimeSpan.FromSeconds(60));
        output.WriteLine("placed: " + ClusterKit.Describe(owners));
        string OwnerOf(string p) => owners.First(kv => kv.Value.Contains(p)).Key;

        // They run: each table's rows reach its topic, once.
        await Insert(0, 4, 1, 10);
        await WaitFor(() => Enumerable.Range(0, 4).All(i => Ids(kafka, $"{Db}.t{i}").Distinct().Count() == 10), TimeSpan.FromSeconds(60),
            () => "10 rows in every topic: " + string.Join(",", Enumerable.Range(0, 4).Select(i => kafka.Count($"{Db}.t{i}"))) + "\n" + kit.Logs());

        // Every node lists every pipeline with the node that runs it, running; /health too.
        await WaitFor(() => nodes.All(n => Listed(kit, n, all, owners, "running")), TimeSpan.FromSeconds(30), () => Lists(kit, nodes));
        foreach (var n in nodes)
        {
            var health = JsonNode.Parse(await Http.GetStringAsync(Url(kit, n, "/health")))!;
            foreach (var p in all)
            {
                var h = health["pipelines"]![p];
                Assert.True(h != null, $"/health of {n} lacks {p}: {health.ToJsonString()}");
                Assert.Equal(OwnerOf(p), h!["node"]!.GetValue<string>());
                Assert.Equal("UP", h["status"]!.GetValue<string>());
            }
        }

        // Pause through a node that does not run it: the owner pauses it (and says so); the token is checked first.
        var owner = OwnerOf("api1");
        var other = nodes.First(n => n != owner);
        var (denied, _, _) = await Call(kit, other, HttpMethod.Post, "/pipelines/api1/pause", null, token: "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, denied);
        var (paused, pausedBody, actedBy) = await Call(kit, other, HttpMethod.Post, "/pipelines/api1/pause", null);
        Assert.True(paused == HttpStatusCode.OK, $"pause via {other}: {paused} {pausedBody}\n{kit.Logs()}");
        Assert.Equal(owner, actedBy);
        Assert.Equal("paused", JsonNode.Parse(pausedBody)!["state"]!.GetValue<string>());
        Assert.Equal("paused", State(kit, owner, "api1"));
        await WaitFor(() => State(kit, other, "api1") == "paused", TimeSpan.FromSeconds(15), () => Lists(kit, nodes));
        await Insert(1, 1, 11, 15);
        await Task.Delay(2000);
        Assert.Equal(10, Ids(kafka, $"{Db}.t1").Distinct().Count());
        var (resumed, resumedBody, resumedBy) = await Call(kit, other, HttpMethod.Post, "/pipelines/api1/resume", null);
        Assert.True(resumed == HttpStatusCode.OK, $"resume via {other}: {resumed} {resumedBody}");
        Assert.Equal(owner, resumedBy);
        await WaitFor(() => Ids(kafka, $"{Db}.t1").Distinct().Count() == 15, TimeSpan.FromSeconds(30), () => "rows after resume\n" + kit.Logs());

        // A name of the configuration file cannot be created or replaced over the API.
        var (dup, dupBody, _) = await Call(kit, "b", HttpMethod.Post, "/pipelines", ApiJson("f0", 4, 5399));
        Assert.Equal(HttpStatusCode.Conflict, dup);
        Assert.Contains("pipelines[].name 'f0'", dupBody);
        var (dupPut, dupPutBody, _) = await Call(kit, "c", HttpMethod.Put, "/pipelines/f0", ApiJson("f0", 4, 5399));
        Assert.Equal(HttpStatusCode.Conflict, dupPut);
        Assert.Contains("configuration file", dupPutBody);

        // Every node restarts, and the file now also defines api3 (into another topic): the topic's api1 and api2 are
        // back; api3 is the file's, with the topic's key named in the log.
        foreach (var n in nodes) kit.Nodes[n].Process.Terminate(TimeSpan.FromSeconds(30));
        kit.Pipelines = FileYaml("f0", 0, 5300) + "\n" + FileYaml("api3", 3, 5303, $"{Db}.other");
        foreach (var n in nodes) kit.Start(n);
        await WaitForAllSlots(kit, nodes, 8);
        owners = await kit.WaitForEachOnce(nodes, all, TimeSpan.FromSeconds(120));
        output.WriteLine("after the restart: " + ClusterKit.Describe(owners));
        foreach (var n in nodes)
        {
            var line = kit.Nodes[n].Process.ReadLog().Split('\n').FirstOrDefault(l => l.Contains("[10008]"));
            Assert.True(line != null && line.Contains("key 'api3'") && line.Contains("configuration file"), $"no duplicate-name error on {n}:\n{kit.Nodes[n].Process.ReadLog()}");
        }
        await Insert(3, 3, 11, 12);
        await WaitFor(() => kafka.Count($"{Db}.other") >= 2, TimeSpan.FromSeconds(60), () => "the file's api3 delivers into cdef.other\n" + kit.Logs());
        await WaitFor(() => nodes.All(n => Listed(kit, n, all, owners, "running")), TimeSpan.FromSeconds(30), () => Lists(kit, nodes));

        // Deleted on one node: gone everywhere, run nowhere.
        var (deleted, deletedBody, _) = await Call(kit, "c", HttpMethod.Delete, "/pipelines/api2", null);
        Assert.True(deleted == HttpStatusCode.NoContent, $"DELETE api2 on c: {deleted} {deletedBody}");
        string[] left = ["f0", "api1", "api3"];
        await kit.WaitForEachOnce(nodes, left, TimeSpan.FromSeconds(30));
        await WaitFor(() => nodes.All(n => !Names(kit, n).Contains("api2")), TimeSpan.FromSeconds(15), () => Lists(kit, nodes));
        var before = kafka.Count($"{Db}.t2");
        await Insert(2, 2, 11, 13);
        await Task.Delay(3000);
        Assert.Equal(before, kafka.Count($"{Db}.t2"));
    }

    /// <summary>Waits until every node is a member with slots and the nodes hold all <paramref name="slots"/> between them (each has read the definitions).</summary>
    private static async Task WaitForAllSlots(ClusterKit kit, string[] nodes, int slots)
    {
        var views = new List<JsonNode?>();
        await WaitFor(() =>
        {
            views = nodes.Select(n => ClusterKit.ClusterOf(kit.Nodes[n].Port).GetAwaiter().GetResult()).ToList();
            return views.All(v => v?["slots"]?.AsArray().Count > 0) && views.Sum(v => v!["slots"]!.AsArray().Count) == slots;
        }, TimeSpan.FromSeconds(120), () => "slots: " + string.Join(" | ", views.Select(v => v?.ToJsonString())) + "\n" + kit.Logs());
    }

    private static string Url(ClusterKit kit, string node, string path) => $"http://127.0.0.1:{kit.Nodes[node].Port}{path}";

    /// <summary>A call with the admin token (or <paramref name="token"/>): status, body, and the node that acted (X-PluginHost-Node).</summary>
    private static async Task<(HttpStatusCode Status, string Body, string? Node)> Call(ClusterKit kit, string node, HttpMethod method, string path, string? json,
        string token = Token)
    {
        using var request = new HttpRequestMessage(method, Url(kit, node, path));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (json != null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        var acted = response.Headers.TryGetValues("X-PluginHost-Node", out var v) ? v.First() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), acted);
    }

    private static JsonArray? List(ClusterKit kit, string node)
    {
        try
        {
            return JsonNode.Parse(Http.GetStringAsync(Url(kit, node, "/pipelines")).GetAwaiter().GetResult())!.AsArray();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static List<string> Names(ClusterKit kit, string node) => List(kit, node)?.Select(p => p!["name"]!.GetValue<string>()).ToList() ?? [];

    private static string? State(ClusterKit kit, string node, string pipeline) =>
        List(kit, node)?.FirstOrDefault(p => p!["name"]!.GetValue<string>() == pipeline)?["state"]?.GetValue<string>();

    /// <summary>Whether <paramref name="node"/> lists exactly <paramref name="pipelines"/>, each in <paramref name="state"/> with its owner as node.</summary>
    private static bool Listed(ClusterKit kit, string node, string[] pipelines, Dictionary<string, List<string>> owners, string state)
    {
        if (List(kit, node) is not { } list || list.Count != pipelines.Length) return false;
        return pipelines.All(p => list.FirstOrDefault(x => x!["name"]!.GetValue<string>() == p) is { } info &&
                                  info["state"]!.GetValue<string>() == state &&
                                  info["node"]?.GetValue<string>() == owners.First(kv => kv.Value.Contains(p)).Key);
    }

    private static string Lists(ClusterKit kit, IEnumerable<string> nodes) => string.Join("\n", nodes.Select(n =>
        $"{n}: " + string.Join(", ", List(kit, n)?.Select(p => $"{p!["name"]}={p["state"]}@{p["node"]}") ?? ["(no answer)"]))) + "\n" + kit.Logs();

    /// <summary>Inserts ids <paramref name="from"/>…<paramref name="to"/> into tables t<paramref name="first"/>…t<paramref name="last"/>.</summary>
    private async Task Insert(int first, int last, int from, int to)
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
        for (var r = from; r <= to; r++)
            for (var i = first; i <= last; i++)
                await c.ExecuteAsync($"INSERT INTO {Db}.t{i} VALUES ({r}, {r})");
    }

    private static List<int> Ids(KafkaMockCluster kafka, string topic) =>
        kafka.ReadAll(topic).Select(r => JsonNode.Parse(r.Value!)!["after"]!["id"]!.GetValue<int>()).ToList();

    private static async Task WaitFor(Func<bool> done, TimeSpan limit, Func<string> what)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"not within {limit}: {what()}");
            await Task.Delay(300);
        }
    }
}
