using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Cluster;

/// <summary>
/// Three real host processes form a cluster on the mock Kafka cluster and share nine pipelines (real MariaDB, Kafka
/// sink, checkpoints in the cluster's topic): each pipeline runs on exactly one node; kill -9 of a node during a
/// stream moves its pipelines to the others from their checkpoints and every change arrives; the node coming back
/// takes over only a share.
/// </summary>
[Collection(ThirdMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ClusterFailoverTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Pipelines = 9;
    private const int Rounds = 300;

    [Fact]
    public async Task Three_nodes_run_each_pipeline_once_and_a_killed_node_s_pipelines_resume_elsewhere_with_nothing_lost()
    {
        using var kafka = new KafkaMockCluster();
        var (names, yaml) = Setup(kafka, "clu");
        using var kit = new ClusterKit(kafka, "cl1", yaml, slots: Pipelines, session: TimeSpan.FromSeconds(4));
        string[] all = ["n1", "n2", "n3"];
        foreach (var n in all) kit.Start(n);

        var owners = await kit.WaitForEachOnce(all, names, TimeSpan.FromSeconds(120), minEach: 3);
        output.WriteLine("all up: " + ClusterKit.Describe(owners));
        Assert.All(owners.Values, v => Assert.Equal(3, v.Count)); // nine slots, three nodes: three pipelines each

        var writer = Write("clu", Rounds);

        // While all nodes are up: every row once in every topic (no pipeline runs twice).
        await WaitFor(() => writer.IsFaulted ? throw writer.Exception! : Enumerable.Range(1, Pipelines).All(i => kafka.Count($"clu.t{i}") >= 20), TimeSpan.FromSeconds(60),
            () => "30 rows in every topic: " + string.Join(",", Enumerable.Range(1, Pipelines).Select(i => kafka.Count($"clu.t{i}"))) + "\n" + kit.Logs());
        foreach (var i in Enumerable.Range(1, Pipelines))
        {
            var ids = Ids(kafka, $"clu.t{i}");
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }

        // kill -9 the node with p1's slot… whichever runs it.
        var victim = owners.First(kv => kv.Value.Contains("p1")).Key;
        var moved = owners[victim];
        Assert.False(writer.IsCompleted, "the kill must land while changes are still being written");
        var before = moved.ToDictionary(p => p, p => kafka.Count("clu.t" + p[1..]));
        kit.Nodes[victim].Process.KillHard();
        var sw = Stopwatch.StartNew();
        var rest = all.Where(n => n != victim).ToList();
        var after = await kit.WaitForEachOnce(rest, names, TimeSpan.FromSeconds(60));
        var owned = sw.Elapsed;
        await WaitFor(() => moved.All(p => kafka.Count("clu.t" + p[1..]) > before[p]), TimeSpan.FromSeconds(60), () => "the moved pipelines deliver again\n" + kit.Logs());
        var resumed = sw.Elapsed;
        output.WriteLine($"kill -9 {victim} ({string.Join(",", moved)}): owned elsewhere after {owned.TotalSeconds:0.0} s, delivering again after {resumed.TotalSeconds:0.0} s; {ClusterKit.Describe(after)}");
        Assert.True(resumed < TimeSpan.FromSeconds(30), $"resume took {resumed.TotalSeconds:0.0} s");

        await writer;
        foreach (var i in Enumerable.Range(1, Pipelines))
            await WaitFor(() => Ids(kafka, $"clu.t{i}").Distinct().Count() >= Rounds, TimeSpan.FromSeconds(60), () => $"every row of t{i}\n{kit.Logs()}");
        foreach (var i in Enumerable.Range(1, Pipelines))
            Assert.Equal(Enumerable.Range(1, Rounds), Ids(kafka, $"clu.t{i}").Distinct().Order());

        // The node comes back: it takes a share (three pipelines); the others keep the rest — unless a survivor fenced
        // itself meanwhile (it stops the revoked pipelines one after another while the rebalance holds its consumer's
        // poll, 1-3 s each here; longer than its self-fence window, it gives up every slot and rejoins) or lost its
        // slots, which the sticky assignor cannot keep: then only the even spread is required (docs/cluster.md).
        var lapsesBefore = rest.ToDictionary(n => n, MembershipLapses);
        kit.Start(victim);
        var back = await kit.WaitForEachOnce(all, names, TimeSpan.FromSeconds(90), minEach: 3);
        var changed = names.Count(p => back.First(kv => kv.Value.Contains(p)).Key != after.First(kv => kv.Value.Contains(p)).Key);
        var lapsed = rest.Where(n => MembershipLapses(n) > lapsesBefore[n]).ToList();
        output.WriteLine($"{victim} back: {ClusterKit.Describe(back)}; {changed} pipeline(s) moved" + (lapsed.Count > 0 ? $"; membership lapsed meanwhile on {string.Join(",", lapsed)}" : ""));
        if (lapsed.Count == 0) Assert.True(changed == 3, $"{changed} pipelines moved where 3 had to\n{kit.Logs()}");
        Assert.All(back.Values, v => Assert.Equal(3, v.Count));

        int MembershipLapses(string node) => File.ReadLines(Path.Combine(kit.Dir, node + ".log"))
            .Count(l => l.Contains("lost (the group may have given them away)") || l.Contains("no confirmation of this node's membership"));
    }

    [Fact]
    public async Task A_stopped_node_fences_itself_and_its_late_checkpoint_writes_are_refused()
    {
        using var kafka = new KafkaMockCluster();
        var (names, yaml) = Setup(kafka, "zom");
        using var kit = new ClusterKit(kafka, "cl2", yaml, slots: Pipelines, session: TimeSpan.FromSeconds(4));
        string[] all = ["z1", "z2", "z3"];
        foreach (var n in all) kit.Start(n);
        var owners = await kit.WaitForEachOnce(all, names, TimeSpan.FromSeconds(120), minEach: 3);
        var writer = Write("zom", Rounds);
        await WaitFor(() => Enumerable.Range(1, Pipelines).All(i => kafka.Count($"zom.t{i}") >= 20), TimeSpan.FromSeconds(60), () => kit.Logs());

        // SIGSTOP one node for longer than the session timeout: the others take its pipelines.
        var zombie = all[1];
        var (process, port) = kit.Nodes[zombie];
        Assert.Equal(0, Posix.Kill(process.Id, 19)); // SIGSTOP
        var sw = Stopwatch.StartNew();
        var rest = all.Where(n => n != zombie).ToList();
        try
        {
            await kit.WaitForEachOnce(rest, names, TimeSpan.FromSeconds(60));
            output.WriteLine($"{zombie} stopped: its pipelines ({string.Join(",", owners[zombie])}) taken over after {sw.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(TimeSpan.FromSeconds(3)); // the new owners write checkpoints
        }
        finally
        {
            Posix.Kill(process.Id, 18); // SIGCONT
        }

        // Awake again, it must not write for the pipelines it ran: it fences itself (or learns it lost its slots).
        var fenced = await WaitForLog(process, ["[10003]", "lost (the group may have given them away)"], TimeSpan.FromSeconds(30));
        output.WriteLine($"{zombie} after SIGCONT: {fenced}");
        await writer;
        var back = await kit.WaitForEachOnce(all, names, TimeSpan.FromSeconds(90), minEach: 3);
        output.WriteLine("after it rejoined: " + ClusterKit.Describe(back));
        foreach (var i in Enumerable.Range(1, Pipelines))
            await WaitFor(() => Ids(kafka, $"zom.t{i}").Distinct().Count() >= Rounds, TimeSpan.FromSeconds(60), () => $"every row of zom.t{i}\n{kit.Logs()}");

        // No checkpoint of a pipeline ever went back: a late write of the zombie would have.
        var records = kafka.ReadAll("cl2.checkpoints");
        foreach (var p in owners[zombie])
        {
            var positions = records.Where(r => r.Key == p).OrderBy(r => r.Partition).ThenBy(r => r.Offset)
                .Select(r => JsonNode.Parse(r.Value!)!["position"]!.GetValue<long>()).ToList();
            Assert.NotEmpty(positions);
            for (var k = 1; k < positions.Count; k++)
                Assert.True(positions[k] >= positions[k - 1], $"checkpoint of {p} went back from {positions[k - 1]} to {positions[k]}: {string.Join(",", positions)}");
        }
        var log = process.ReadLog();
        output.WriteLine(string.Join("\n", log.Split('\n').Where(l => l.Contains("[100") || l.Contains("not written")).TakeLast(20)));
    }

    [Fact]
    public async Task A_node_that_cannot_reach_kafka_fences_itself_says_why_and_resumes_when_it_can()
    {
        using var kafka = new KafkaMockCluster();
        var (names, yaml) = Setup(kafka, "unr");
        using var kit = new ClusterKit(kafka, "cl3", yaml, slots: Pipelines, session: TimeSpan.FromSeconds(4));
        kit.Start("u1");
        await kit.WaitForEachOnce(["u1"], names, TimeSpan.FromSeconds(90));
        var port = kit.Nodes["u1"].Port;
        var writer = Write("unr", 120);
        await WaitFor(() => Enumerable.Range(1, Pipelines).All(i => kafka.Count($"unr.t{i}") >= 10), TimeSpan.FromSeconds(60), () => kit.Logs());

        kafka.SetAllBrokersDown();
        JsonNode? cluster = null;
        var sw = Stopwatch.StartNew();
        try
        {
            await WaitFor(() => (cluster = ClusterKit.ClusterOf(port).GetAwaiter().GetResult()) is { } c && c["state"]!.GetValue<string>() == "fenced",
                TimeSpan.FromSeconds(30), () => $"fenced in GET /cluster: {cluster?.ToJsonString()}\n{kit.Logs()}");
            output.WriteLine($"fenced after {sw.Elapsed.TotalSeconds:0.0} s: {cluster!["reason"]}");
            Assert.Empty(cluster["pipelines"]!.AsArray());
            Assert.False(kit.Nodes["u1"].Process.HasExited, "the node exited:\n" + kit.Nodes["u1"].Process.ReadLog());
            // (Its pipelines are asked to stop; with every broker gone their stop waits on the Kafka clients, which can
            // take over a minute: docs/cluster.md, "Kafka unreachable from one node".)
        }
        finally
        {
            kafka.SetAllBrokersUp();
        }
        await kit.WaitForEachOnce(["u1"], names, TimeSpan.FromSeconds(120));
        Assert.False(kit.Nodes["u1"].Process.HasExited, "the node exited:\n" + kit.Nodes["u1"].Process.ReadLog());
        output.WriteLine($"running all again {sw.Elapsed.TotalSeconds:0.0} s after Kafka went away");
        await writer;
        foreach (var i in Enumerable.Range(1, Pipelines))
            await WaitFor(() => Ids(kafka, $"unr.t{i}").Distinct().Count() >= 120, TimeSpan.FromSeconds(60), () => $"every row of unr.t{i}\n{kit.Logs()}");
    }

    private static async Task<string> WaitForLog(HostProcess process, string[] any, TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < limit)
        {
            var line = process.ReadLog().Split('\n').FirstOrDefault(l => any.Any(a => l.Contains(a, StringComparison.Ordinal)));
            if (line != null) return line;
            await Task.Delay(250);
        }
        throw new TimeoutException($"none of {string.Join(" | ", any)} in the log within {limit}:\n{process.ReadLog()}");
    }

    /// <summary>Nine tables in database <paramref name="database"/>, their topics, and nine pipelines reading one each into Kafka.</summary>
    private (List<string> Names, string Yaml) Setup(KafkaMockCluster kafka, string database)
    {
        var names = Enumerable.Range(1, Pipelines).Select(i => $"p{i}").ToList();
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}; " +
               string.Concat(Enumerable.Range(1, Pipelines).Select(i => $"CREATE TABLE {database}.t{i} (id INT PRIMARY KEY, v INT NOT NULL);")));
        for (var i = 1; i <= Pipelines; i++) kafka.CreateTopic($"{database}.t{i}", 1);
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var yaml = string.Join("\n", Enumerable.Range(1, Pipelines).Select(i => $$"""
              - name: p{{i}}
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: {{5100 + i}}, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["{{database}}.t{{i}}"] }
                batch_size: 50
                sink: { type: kafka, bootstrap_servers: "{{kafka.BootstrapServers}}", create_topics: false, flush_timeout: 2s }
            """));
        return (names, yaml);
    }

    /// <summary>Inserts row r (1…rounds) into every table, paced.</summary>
    private Task Write(string database, int rounds) => Task.Run(async () =>
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
        for (var r = 1; r <= rounds; r++)
        {
            for (var i = 1; i <= Pipelines; i++) await c.ExecuteAsync($"INSERT INTO {database}.t{i} VALUES ({r}, {r})");
            await Task.Delay(70);
        }
    });

    private static List<int> Ids(KafkaMockCluster kafka, string topic) =>
        kafka.ReadAll(topic).Select(r => JsonNode.Parse(r.Value!)!["after"]!["id"]!.GetValue<int>()).ToList();

    private static async Task WaitFor(Func<bool> done, TimeSpan limit, Func<string> what)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"not within {limit}: {what()}");
            await Task.Delay(250);
        }
    }
}
