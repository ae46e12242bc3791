using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// One failing receiver must not hold up the others: each webhook task has its own lanes and failure state, the
/// pipeline keeps handing events over while earlier ones are owed (the checkpoint is the low-water mark of acknowledged
/// transactions), and a receiver that comes back is retried promptly. Real MariaDB, a real Kestrel receiver.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WebhookIsolationTests(MariaDbServer db, ITestOutputHelper output)
{
    private static JsonObject TwoTasks(WebhookReceiver receiver, string database, int? inFlightEvents = null) => new()
    {
        ["type"] = "webhook",
        ["callback_host"] = receiver.BaseUrl,
        ["worker_count"] = 4,
        ["max_retries"] = 1_000_000,
        ["retry_base_delay"] = "50ms",
        ["retry_max_delay"] = "60s", // a lane left to its own backoff would sleep for up to a minute
        ["probe_interval"] = "500ms",
        ["tasks"] = new JsonArray(
            new JsonObject { ["table"] = $"{database}.good", ["url"] = "/good" },
            new JsonObject { ["table"] = $"{database}.bad", ["url"] = "/bad" }),
    };

    [Fact]
    public async Task A_failing_task_holds_back_only_its_own_events_and_recovers_promptly()
    {
        const string database = "wh_iso";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}; " +
               $"CREATE TABLE {database}.good (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE {database}.bad (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var badDown = 1;
        receiver.Respond = r => r.Path == "/bad" && Volatile.Read(ref badDown) == 1 ? new Reply(500) : new Reply();
        await using var p = await WebhookPipeline.StartAsync(db, "iso", database, TwoTasks(receiver, database), output);
        await p.RunningAsync();

        // Both tables change, one transaction each, while /bad answers 500.
        const int rows = 30;
        var committed = new Dictionary<long, long>(); // good row → Stopwatch ticks just before its insert was sent
        var expectedGood = new Dictionary<long, List<string>>();
        var expectedBad = new Dictionary<long, List<string>>();
        for (var i = 1; i <= rows; i++)
        {
            committed[i] = Stopwatch.GetTimestamp();
            db.Sql($"INSERT INTO good VALUES ({i}, 0);", database);
            db.Sql($"INSERT INTO bad VALUES ({i}, 0); UPDATE bad SET v = 1 WHERE id = {i};", database);
            expectedGood[i] = ["i0"];
            expectedBad[i] = ["i0", "u1"];
        }
        db.Sql("UPDATE good SET v = 1;", database);
        foreach (var l in expectedGood.Values) l.Add("u1");

        List<JsonObject> Events(string path) => receiver.Events().Where(e => e.Request.Path == path).Select(e => e.Event).ToList();
        await Wait.UntilAsync(() => Events("/good").Count >= 2 * rows, TimeSpan.FromSeconds(30),
            () => $"{Events("/good").Count} of {2 * rows} /good events arrived while /bad fails; state {p.Status.State} {p.Status.LastError}; {p.Sink.Stats}");
        Assert.Empty(Events("/bad"));
        AssertSameHistories(expectedGood, ByRow(Events("/good")));
        // Each good insert arrived while /bad kept failing, not after it: well within the seconds a stall would take.
        var latest = receiver.Events().Where(e => e.Request.Path == "/good" && e.Event["op"]!.GetValue<string>() == "insert")
            .Max(e => Stopwatch.GetElapsedTime(committed[Id(e.Event)], e.Request.AtTicks));
        output.WriteLine($"slowest /good insert, commit to 2xx while /bad fails: {latest.TotalMilliseconds:0} ms");
        Assert.True(latest < TimeSpan.FromSeconds(5), $"a /good insert took {latest.TotalMilliseconds:0} ms");

        // The outage shows: degraded, the task and its HTTP status, the events it owes; the lag grows while they wait;
        // the checkpoint stays before the first /bad transaction.
        await Wait.UntilAsync(() => p.Status.State == PipelineState.Degraded && p.Status.LagSeconds >= 2, TimeSpan.FromSeconds(15),
            () => $"state {p.Status.State}, lag {p.Status.LagSeconds}");
        Assert.Contains("'/bad'", p.Status.LastError);
        Assert.Contains("HTTP 500", p.Status.LastError);
        var bad = Assert.Single(p.Sink.Targets, t => t.Name == "/bad");
        Assert.True(bad.Failing);
        Assert.Equal(2 * rows, bad.Pending);
        Assert.False(Assert.Single(p.Sink.Targets, t => t.Name == "/good").Failing);
        Assert.True((p.Status.Checkpoint?.EventsDelivered ?? 0) <= 1, $"checkpoint {p.Status.Checkpoint} passed a /bad event still owed");
        Assert.True(p.Status.InFlightEvents >= 2 * rows);

        // The receiver comes back: its lanes (deep in a backoff of up to 60 s) are retried at once, in row order.
        var back = Stopwatch.StartNew();
        Volatile.Write(ref badDown, 0);
        await Wait.UntilAsync(() => Events("/bad").Count >= 2 * rows, TimeSpan.FromSeconds(15),
            () => $"{Events("/bad").Count} of {2 * rows} /bad events after the receiver came back; {p.Sink.Stats}");
        output.WriteLine($"/bad caught up {back.ElapsedMilliseconds} ms after its receiver came back");
        AssertSameHistories(expectedBad, ByRow(Events("/bad")));
        await p.CaughtUpAsync(db, TimeSpan.FromSeconds(15));
        await Wait.UntilAsync(() => p.Status.State == PipelineState.Running && p.Status.LastError is null, TimeSpan.FromSeconds(5),
            () => $"state {p.Status.State} {p.Status.LastError}");
        Assert.Equal(4 * rows, p.Status.EventsOut);
    }

    [Fact]
    public async Task A_full_in_flight_budget_names_the_task_that_holds_it()
    {
        const string database = "wh_iso_budget";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}; " +
               $"CREATE TABLE {database}.good (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE {database}.bad (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var badDown = 1;
        receiver.Respond = r => r.Path == "/bad" && Volatile.Read(ref badDown) == 1 ? new Reply(500) : new Reply();
        var dir = TestTemp.CreateSubdirectory("pluginhost-webhook-budget-").FullName;
        var yaml = WebhookPipeline.ConfigYaml(db, "budget", database, TwoTasks(receiver, database), WebhookPipeline.StartHere(db))
            .Replace("batch_size: 1000", "batch_size: 10\n    in_flight_events: 25");
        await File.WriteAllTextAsync(Path.Combine(dir, "pluginhost.yaml"), yaml);
        await using var p = WebhookPipeline.Start(PluginHost.Config.ConfigLoader.Parse(yaml, Path.Combine(dir, "pluginhost.yaml"), new Dictionary<string, string>()), dir, output);
        await p.RunningAsync();

        db.Sql("INSERT INTO bad SELECT seq, 0 FROM seq_1_to_100;", database);
        for (var i = 1; i <= 20; i++) db.Sql($"INSERT INTO good VALUES ({i}, 0);", database);
        await Wait.UntilAsync(() => p.Status.HeldBy != null, TimeSpan.FromSeconds(20), () => $"held by {p.Status.HeldBy}, in flight {p.Status.InFlightEvents}");
        output.WriteLine(p.Status.HeldBy);
        Assert.Contains("in-flight budget is full", p.Status.HeldBy);
        Assert.Contains("'/bad'", p.Status.HeldBy);
        Assert.Contains("HTTP 500", p.Status.HeldBy);
        // Memory stays bounded: the rows behind the budget wait in the binlog queue, not in the sink.
        Assert.True(p.Sink.Pending <= 100, $"{p.Sink.Pending} deliveries pending");

        Volatile.Write(ref badDown, 0);
        await p.CaughtUpAsync(db, TimeSpan.FromSeconds(20));
        Assert.Equal(20, receiver.Events().Count(e => e.Request.Path == "/good"));
        Assert.Equal(100, receiver.Events().Count(e => e.Request.Path == "/bad"));
        await Wait.UntilAsync(() => p.Status.HeldBy is null, TimeSpan.FromSeconds(5), () => $"held by {p.Status.HeldBy}");
    }

    /// <summary>
    /// The real host process: during an outage of one receiver the other gets everything, /health says DEGRADED; SIGTERM
    /// ends within the drain time and says what it left; kill -9 then a restart with the receiver back: nothing lost,
    /// each row in commit order, repeats carrying their first webhook-id.
    /// </summary>
    [Fact]
    public async Task Kill_minus_nine_during_an_outage_of_one_receiver_loses_nothing()
    {
        const string database = "wh_iso_crash";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}; " +
               $"CREATE TABLE {database}.good (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE {database}.bad (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var badDown = 1;
        receiver.Respond = r => r.Path == "/bad" && Volatile.Read(ref badDown) == 1 ? new Reply(500) : new Reply();
        var dir = TestTemp.CreateSubdirectory("pluginhost-webhook-iso-crash-").FullName;
        var port = MariaDbServer.FreePort();
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, $$"""
            state_dir: state
            plugins_dir: {{PluginDirectories.BuiltPlugins}}
            server: { listen: "127.0.0.1:{{port}}" }
            pipelines:
              - name: isocrash
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 7791, ssl: none, heartbeat: 1s, start: {{WebhookPipeline.StartHere(db)}} }
                filter: { include: ["{{database}}.*"] }
                sink: {{TwoTasks(receiver, database).ToJsonString()}}
            """);
        var expectedGood = new Dictionary<long, List<string>>();
        var expectedBad = new Dictionary<long, List<string>>();
        var version = 0;
        void Round(int from, int to)
        {
            version++;
            for (var i = from; i <= to; i++)
            {
                var op = version == 1 ? $"INSERT INTO {{0}} VALUES ({i}, 1)" : $"UPDATE {{0}} SET v = {version} WHERE id = {i}";
                db.Sql(string.Format(op, "good") + "; " + string.Format(op, "bad") + ";", database);
                foreach (var d in new[] { expectedGood, expectedBad })
                {
                    if (!d.TryGetValue(i, out var l)) d[i] = l = [];
                    l.Add(version == 1 ? "i1" : "u" + version);
                }
            }
        }
        List<JsonObject> Events(string path) => receiver.Events().Where(e => e.Request.Path == path).Select(e => e.Event).ToList();

        var log = Path.Combine(dir, "host.log");
        var host = HostProcess.Start(log, "run", "--config", config);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        try
        {
            await Wait.UntilAsync(() => host.ReadLog().Contains("streaming binlog"), TimeSpan.FromSeconds(30), () => host.ReadLog());
            Round(1, 40);
            Round(1, 40);
            await Wait.UntilAsync(() => Events("/good").Count >= 80, TimeSpan.FromSeconds(30), () => $"{Events("/good").Count} /good events; log:\n{host.ReadLog()}");
            Assert.Empty(Events("/bad"));
            // /health tells the truth during the outage: 200 (the process is fine) but DEGRADED, with the task and its status.
            JsonElement health = default;
            await Wait.UntilAsync(() =>
            {
                health = http.GetFromJsonAsync<JsonElement>("health").GetAwaiter().GetResult();
                return health.GetProperty("status").GetString() == "DEGRADED";
            }, TimeSpan.FromSeconds(15), () => health.ToString());
            var pipeline = health.GetProperty("pipelines").GetProperty("isocrash");
            Assert.Equal("degraded", pipeline.GetProperty("state").GetString());
            Assert.Contains("HTTP 500", pipeline.GetProperty("last_error").GetString());

            // SIGTERM with the receiver still down: the host ends within its drain time (5 s) and says what it left.
            var stopping = Stopwatch.StartNew();
            Assert.True(host.Terminate(TimeSpan.FromSeconds(20)), "the host did not stop on SIGTERM");
            output.WriteLine($"SIGTERM with a receiver down: exited in {stopping.ElapsedMilliseconds} ms");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(15), $"SIGTERM took {stopping.ElapsedMilliseconds} ms");
            Assert.Contains("not yet acknowledged", host.ReadLog());
            host.Dispose();

            // Again, and this time kill -9 in the middle of the outage.
            host = HostProcess.Start(log, "run", "--config", config);
            await Wait.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2, TimeSpan.FromSeconds(30), () => host.ReadLog());
            Round(1, 40);
            await Wait.UntilAsync(() => Events("/good").Count >= 120, TimeSpan.FromSeconds(30), () => $"{Events("/good").Count} /good events");
            host.KillHard();
            host.Dispose();

            // The receiver is back: a restart delivers everything to both, each row in order.
            Volatile.Write(ref badDown, 0);
            host = HostProcess.Start(log, "run", "--config", config);
            Round(1, 40);
            await Wait.UntilAsync(() => Events("/good").Count >= 160 && Events("/bad").Count >= 160, TimeSpan.FromSeconds(60),
                () => $"/good {Events("/good").Count}, /bad {Events("/bad").Count} of 160; log:\n{host.ReadLog()}");
            Assert.True(host.Terminate(TimeSpan.FromSeconds(20)), "the host did not stop on SIGTERM");
            AssertSameHistories(expectedGood, ByRow(Events("/good")));
            AssertSameHistories(expectedBad, ByRow(Events("/bad")));
            var raw = receiver.Accepted.Where(r => r.Path == "/good").Sum(r => r.Events().Count());
            output.WriteLine($"/good accepted {raw} events for 160 changes ({raw - 160} repeats after the stop and the kill, each with its first webhook-id)");
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(30)));
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
