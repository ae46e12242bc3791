using System.Text.Json.Nodes;
using PluginHost.Cli;
using PluginHost.Plugins;
using PluginHost.Plugins.Webhook;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// End to end from a real MariaDB through the pipeline runner to a real HTTP receiver (Kestrel on loopback):
/// routing, relative URLs, both payload formats, batching, injected faults, dead letters and replay.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WebhookMariaDbTests(MariaDbServer db, ITestOutputHelper output)
{
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(30);

    private static JsonObject TaskOf(string table, string url, params string[] events)
    {
        var t = new JsonObject { ["table"] = table, ["url"] = url };
        if (events.Length > 0) t["events"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray());
        return t;
    }

    [Fact]
    public async Task Routes_by_table_and_event_to_relative_and_absolute_urls_in_both_formats()
    {
        db.Sql("""
            DROP DATABASE IF EXISTS wh_route; CREATE DATABASE wh_route;
            CREATE TABLE wh_route.users (id INT PRIMARY KEY, v INT NOT NULL, name VARCHAR(40));
            CREATE TABLE wh_route.`order` (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40));
            CREATE TABLE wh_route.`2024_user-activity_log` (id INT PRIMARY KEY, v INT NOT NULL);
            CREATE TABLE wh_route.other (id INT PRIMARY KEY, v INT NOT NULL);
            """);
        await using var receiver = await WebhookReceiver.StartAsync();
        JsonObject Sink(string prefix, string format) => new()
        {
            ["type"] = "webhook",
            ["callback_host"] = $"{receiver.BaseUrl}/{prefix}",
            ["format"] = format,
            ["tasks"] = new JsonArray(
                TaskOf("users", "/users", "insert", "update"),
                TaskOf("wh_route.users", "/users-deleted", "delete"),
                TaskOf("order", $"{receiver.BaseUrl}/{prefix}/order-abs"),
                TaskOf("2024_user-activity_log", "/activity", "insert")),
        };
        await using var json = await WebhookPipeline.StartAsync(db, "route-json", "wh_route", Sink("json", "json"), output);
        await using var pk = await WebhookPipeline.StartAsync(db, "route-pk", "wh_route", Sink("pk", "pikachu"), output);
        Assert.Equal($"{receiver.BaseUrl}/json/users", json.Sink.Urls[0].ToString());
        await json.RunningAsync();
        await pk.RunningAsync();
        db.Sql("""
            INSERT INTO users VALUES (1, 0, 'Ann'), (2, 0, 'Bob'), (3, 0, 'Cy');
            UPDATE users SET v = 1, name = 'Ann B.' WHERE id = 1;
            DELETE FROM users WHERE id = 2;
            INSERT INTO `order` VALUES (10, 0, 'new');
            UPDATE `order` SET v = 1 WHERE id = 10;
            DELETE FROM `order` WHERE id = 10;
            INSERT INTO `2024_user-activity_log` VALUES (100, 0);
            UPDATE `2024_user-activity_log` SET v = 1 WHERE id = 100;
            INSERT INTO other VALUES (1000, 0);
            """, "wh_route");
        await json.CaughtUpAsync(db, CatchUp);
        await pk.CaughtUpAsync(db, CatchUp);

        foreach (var (prefix, p) in new[] { ("json", json), ("pk", pk) })
        {
            var byPath = receiver.Events().Where(e => e.Request.Path.StartsWith($"/{prefix}/")).GroupBy(e => e.Request.Path[(prefix.Length + 1)..])
                .ToDictionary(g => g.Key, g => g.Select(x => x.Event).ToList());
            Assert.Equal(["/activity", "/order-abs", "/users", "/users-deleted"], byPath.Keys.Order());
            Assert.Equal(["i0", "i0", "i0", "u1"], byPath["/users"].Select(Step).Order());
            Assert.Equal(["d"], byPath["/users-deleted"].Select(Step));
            Assert.Equal(["i0", "u1", "d"], byPath["/order-abs"].Select(Step));
            Assert.Equal(["i0"], byPath["/activity"].Select(Step));
            Assert.Equal(2, p.Sink.Stats.Unrouted); // the activity update and the other table
            Assert.Equal(11, p.Status.EventsOut); // the sink acknowledged the unrouted ones too
        }
        // Event JSON: the decode shape. pikachu: its own shape, table without database.
        var ev = receiver.Events().First(e => e.Request.Path == "/json/order-abs").Event;
        Assert.Equal(["op", "database", "table", "before", "after", "gtid", "file", "pos", "ts"], ev.Select(p => p.Key));
        Assert.Equal("order", ev["table"]!.GetValue<string>());
        Assert.Equal("wh_route", ev["database"]!.GetValue<string>());
        var pkUpdate = receiver.Events().Single(e => e.Request.Path == "/pk/users" && e.Event["event"]!.GetValue<string>() == "update").Event;
        Assert.Equal(["event", "table", "primary_id", "old_data", "new_data", "timestamp"], pkUpdate.Select(p => p.Key));
        Assert.Equal("users", pkUpdate["table"]!.GetValue<string>());
        Assert.Equal(1, pkUpdate["primary_id"]!.GetValue<long>());
        Assert.Equal("Ann", pkUpdate["old_data"]!["name"]!.GetValue<string>());
        Assert.Equal("Ann B.", pkUpdate["new_data"]!["name"]!.GetValue<string>());
        var pkDelete = receiver.Events().Single(e => e.Request.Path == "/pk/users-deleted").Event;
        Assert.Equal(2, pkDelete["data"]!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task Batches_from_mariadb_carry_up_to_batch_size_events_in_row_order()
    {
        db.Sql("DROP DATABASE IF EXISTS wh_batch; CREATE DATABASE wh_batch; CREATE TABLE wh_batch.t (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var sink = new JsonObject
        {
            ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["batch_size"] = 25, ["worker_count"] = 4,
            ["tasks"] = new JsonArray(TaskOf("t", "/batch")),
        };
        await using var p = await WebhookPipeline.StartAsync(db, "batch", "wh_batch", sink, output);
        await p.RunningAsync();
        db.Sql("INSERT INTO t SELECT seq, 0 FROM seq_1_to_300; UPDATE t SET v = 1; UPDATE t SET v = 2 WHERE id % 2 = 0; DELETE FROM t WHERE id > 290;", "wh_batch");
        await p.CaughtUpAsync(db, CatchUp);
        var requests = receiver.Accepted.ToList();
        Assert.All(requests, r => Assert.InRange(r.Events().Count(), 1, 25));
        Assert.True(requests.Count <= 300 * 4 / 10, $"{requests.Count} requests");
        var expected = Enumerable.Range(1, 300).ToDictionary(i => (long)i, i =>
        {
            var steps = new List<string> { "i0", "u1" };
            if (i % 2 == 0) steps.Add("u2");
            if (i > 290) steps.Add("d");
            return steps;
        });
        AssertSameHistories(expected, ByRow(receiver.Events().Select(e => e.Event)));
    }

    /// <summary>
    /// Random 500s, 429 with Retry-After, timeouts, and the receiver down (connection refused) for
    /// <paramref name="downSeconds"/> while changes keep coming: every change arrives, each row in commit order.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(30)] // the "receiver down for 30 s", at its real length
    public async Task Faults_lose_nothing_and_keep_row_order(int downSeconds)
    {
        db.Sql("DROP DATABASE IF EXISTS wh_fault; CREATE DATABASE wh_fault; CREATE TABLE wh_fault.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(20));");
        await using var receiver = await WebhookReceiver.StartAsync();
        var rnd = new Random(42);
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        // Per webhook-id, when each attempt arrived and what it was answered (to check the wait after a 429).
        var history = new System.Collections.Concurrent.ConcurrentDictionary<string, List<(long At, int Status)>>();
        receiver.Respond = r =>
        {
            var id = r.Header("webhook-id") ?? "";
            var attempt = attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            double x;
            lock (rnd) x = rnd.NextDouble();
            var reply = attempt > 3 ? new Reply() : x switch
            {
                < 0.10 => new Reply(500),
                < 0.11 => new Reply(429, RetryAfter: "1"),
                < 0.13 => new Reply(503),
                < 0.14 => new Reply(Delay: TimeSpan.FromSeconds(2)), // past the 300 ms timeout
                _ => new Reply(),
            };
            var list = history.GetOrAdd(id, _ => []);
            lock (list) list.Add((r.AtTicks, reply.Status));
            return reply;
        };
        var sink = new JsonObject
        {
            ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["worker_count"] = 16, ["timeout"] = "300ms",
            ["max_retries"] = 100000, ["retry_base_delay"] = "20ms", ["retry_max_delay"] = "500ms",
            ["tasks"] = new JsonArray(TaskOf("t", "/faults")),
        };
        await using var p = await WebhookPipeline.StartAsync(db, "faults", "wh_fault", sink, output);
        await p.RunningAsync();
        const int rows = 150;
        var expected = Enumerable.Range(1, rows).ToDictionary(i => (long)i, _ => new List<string> { "i0" });
        db.Sql($"INSERT INTO t SELECT seq, 0, 'x' FROM seq_1_to_{rows};", "wh_fault");
        var version = new int[rows + 1];
        var writeRnd = new Random(7);
        void Round(int n)
        {
            var sql = new System.Text.StringBuilder();
            for (var k = 0; k < n; k++)
            {
                var from = 1 + writeRnd.Next(rows - 20);
                sql.Append($"UPDATE t SET v = v + 1 WHERE id BETWEEN {from} AND {from + 19};\n");
                for (var i = from; i <= from + 19; i++) expected[i].Add("u" + ++version[i]);
            }
            db.Sql(sql.ToString(), "wh_fault");
        }
        Round(10);
        await Task.Delay(300);
        await receiver.StopAsync(); // connection refused from now on
        var downFor = System.Diagnostics.Stopwatch.StartNew();
        while (downFor.Elapsed < TimeSpan.FromSeconds(downSeconds))
        {
            Round(2);
            await Task.Delay(500);
        }
        await receiver.StartAgainAsync();
        Round(10);
        db.Sql("DELETE FROM t WHERE id <= 10;", "wh_fault");
        for (var i = 1; i <= 10; i++) expected[i].Add("d");
        await p.CaughtUpAsync(db, TimeSpan.FromSeconds(60));
        output.WriteLine($"{p.Sink.Stats}; receiver saw {receiver.Requests} requests");
        AssertSameHistories(expected, ByRow(receiver.Events().Select(e => e.Event)));
        Assert.True(p.Sink.Stats.Retries > 0);
        // Retry-After: 1 was honoured: the next attempt of that request came no earlier than 1 s after the 429 was
        // answered (a lower bound only; 10 ms of slack for the clocks' granularity).
        var waits = new List<TimeSpan>();
        foreach (var list in history.Values)
            lock (list)
                for (var i = 0; i + 1 < list.Count; i++)
                    if (list[i].Status == 429)
                        waits.Add(System.Diagnostics.Stopwatch.GetElapsedTime(list[i].At, list[i + 1].At));
        output.WriteLine($"{waits.Count} retries after a 429; shortest wait {(waits.Count > 0 ? waits.Min().TotalMilliseconds : 0):0} ms");
        Assert.NotEmpty(waits);
        Assert.All(waits, w => Assert.True(w >= TimeSpan.FromMilliseconds(990), $"retried {w.TotalMilliseconds:0} ms after a 429 with Retry-After: 1"));
    }

    /// <summary>
    /// Dead-lettering off and the receiver refusing (500) one row: the lane holds it, and the checkpoint does not move
    /// past its transaction while later transactions come in — then moves once the receiver takes it. Nothing is dropped.
    /// </summary>
    [Fact]
    public async Task Without_dead_lettering_the_checkpoint_stays_before_a_refused_event_until_the_receiver_accepts_it()
    {
        db.Sql("DROP DATABASE IF EXISTS wh_hold; CREATE DATABASE wh_hold; CREATE TABLE wh_hold.t (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var refusing = true;
        var refused = 0;
        receiver.Respond = r =>
        {
            if (!Volatile.Read(ref refusing) || !r.Events().Any(e => Id(e) == 5)) return new Reply();
            Interlocked.Increment(ref refused);
            return new Reply(500);
        };
        var sink = new JsonObject
        {
            ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["worker_count"] = 4,
            ["max_retries"] = 1, ["retry_base_delay"] = "10ms", ["retry_max_delay"] = "50ms", // no dead_letter
            ["tasks"] = new JsonArray(TaskOf("t", "/hold")),
        };
        await using var p = await WebhookPipeline.StartAsync(db, "hold", "wh_hold", sink, output);
        Assert.Null(p.Sink.DeadLetterPath);
        await p.RunningAsync();
        db.Sql("INSERT INTO t SELECT seq, 0 FROM seq_1_to_4;", "wh_hold");
        await p.CaughtUpAsync(db, CatchUp);
        var status = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        var (refusedFile, refusedStart) = (status[0], long.Parse(status[1].Trim())); // where the refused transaction begins
        db.Sql("INSERT INTO t VALUES (5, 0);", "wh_hold");
        db.Sql("INSERT INTO t VALUES (6, 0); INSERT INTO t VALUES (7, 0); UPDATE t SET v = 1 WHERE id = 1;", "wh_hold"); // later transactions

        // While the row is refused (many times over, its retries long exhausted), every checkpoint seen is before it.
        var seen = new List<PluginHost.Checkpoints.Checkpoint>();
        await Wait.UntilAsync(() =>
        {
            if (p.Status.Checkpoint is { } c) seen.Add(c);
            return Volatile.Read(ref refused) >= 10 && p.Sink.HoldingLanes == 1;
        }, CatchUp, () => $"refused {refused}, holding lanes {p.Sink.HoldingLanes}; {p.Sink.Stats}");
        Assert.NotEmpty(seen);
        Assert.All(seen, c => Assert.True(c.File == refusedFile && c.Position <= refusedStart,
            $"checkpoint {c} passed the refused transaction at {refusedFile}:{refusedStart}"));
        Assert.True(p.Sink.Pending > 0);
        Assert.DoesNotContain(receiver.Events(), e => Id(e.Event) == 5);

        // The receiver takes it: the checkpoint moves past everything, and every change arrived once, in row order.
        Volatile.Write(ref refusing, false);
        await p.CaughtUpAsync(db, CatchUp);
        Assert.True(p.Status.Checkpoint!.Position > refusedStart || p.Status.Checkpoint.File != refusedFile);
        Assert.Equal(0, p.Sink.Stats.DeadLettered);
        var expected = Enumerable.Range(1, 7).ToDictionary(i => (long)i, i => i == 1 ? new List<string> { "i0", "u1" } : ["i0"]);
        AssertSameHistories(expected, ByRow(receiver.Events().Select(e => e.Event)));
    }

    [Fact]
    public async Task Dead_letters_are_written_and_replayed_through_the_pipelines_sink()
    {
        db.Sql("DROP DATABASE IF EXISTS wh_dlq; CREATE DATABASE wh_dlq; CREATE TABLE wh_dlq.users (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE wh_dlq.audit (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var failing = true;
        var failedIds = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        receiver.Respond = r =>
        {
            if (r.Path != "/users" || !Volatile.Read(ref failing)) return new Reply();
            failedIds[r.Header("webhook-id")!] = true;
            return new Reply(500);
        };
        var sink = new JsonObject
        {
            ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["max_retries"] = 1, ["retry_base_delay"] = "10ms",
            ["dead_letter"] = "dlq/users.jsonl",
            ["tasks"] = new JsonArray(
                new JsonObject { ["id"] = "users", ["table"] = "users", ["url"] = "/users" },
                new JsonObject { ["id"] = "audit-users", ["table"] = "users", ["url"] = "/audit" },
                new JsonObject { ["id"] = "audit", ["table"] = "audit", ["url"] = "/audit" }),
        };
        await using var p = await WebhookPipeline.StartAsync(db, "dlq", "wh_dlq", sink, output);
        await p.RunningAsync();
        db.Sql("INSERT INTO users SELECT seq, 0 FROM seq_1_to_20; UPDATE users SET v = 1 WHERE id <= 5; INSERT INTO audit VALUES (1, 0);", "wh_dlq");
        await p.CaughtUpAsync(db, CatchUp); // the checkpoint passes dead-lettered events
        var dlq = Path.Combine(p.Directory, "dlq", "users.jsonl");
        Assert.Equal(25, File.ReadAllLines(dlq).Length);
        Assert.Equal(25, p.Sink.Stats.DeadLettered);
        Assert.Equal(26, receiver.Events().Count(e => e.Request.Path == "/audit"));
        Assert.DoesNotContain(receiver.Events(), e => e.Request.Path == "/users");

        // The receiver is fixed: replay. Each event goes again to the task it failed on (not to /audit a second time).
        Volatile.Write(ref failing, false);
        var sinks = new SinkCatalog();
        sinks.Register(new WebhookSinkFactory(), "test");
        var console = new StringWriter();
        var code = await DeadLetterCommand.ReplayAsync(dlq, Path.Combine(p.Directory, "pluginhost.yaml"), "dlq", delete: false, console, sinks, default);
        output.WriteLine(console.ToString());
        Assert.Equal(0, code);
        Assert.Contains("25 delivered, 0 dead-lettered again", console.ToString());
        var users = receiver.Events().Where(e => e.Request.Path == "/users").Select(e => e.Event).ToList();
        Assert.Equal(25, users.Count);
        Assert.Equal(26, receiver.Events().Count(e => e.Request.Path == "/audit"));
        var expected = Enumerable.Range(1, 20).ToDictionary(i => (long)i, i => i <= 5 ? new List<string> { "i0", "u1" } : ["i0"]);
        AssertSameHistories(expected, ByRow(users));
        Assert.False(File.Exists(dlq));
        Assert.Single(Directory.GetFiles(Path.Combine(p.Directory, "dlq"), "users.jsonl.replayed-*"));
        // A replayed event keeps the webhook-id it had when it failed (receivers can drop duplicates by it).
        var replayIds = receiver.Accepted.Where(r => r.Path == "/users").Select(r => r.Header("webhook-id")!).ToList();
        Assert.Equal(25, replayIds.Distinct().Count());
        Assert.All(replayIds, id => Assert.True(failedIds.ContainsKey(id), $"{id} is new"));
    }
}
