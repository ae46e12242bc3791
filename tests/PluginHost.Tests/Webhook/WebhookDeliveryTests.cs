using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Cli;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// The sink against a real HTTP receiver (Kestrel on loopback), fed with synthetic events: retries, Retry-After,
/// timeouts, refused connections, a receiver that is down for a while, dead letters, holding, batching, per-row order.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WebhookDeliveryTests(ITestOutputHelper output)
{
    private static JsonObject Settings(string url, Action<JsonObject>? more = null)
    {
        var o = new JsonObject
        {
            ["tasks"] = new JsonArray(new JsonObject { ["id"] = "all", ["table"] = "*", ["url"] = url }),
            ["worker_count"] = 8,
            ["timeout"] = "2s",
            ["max_retries"] = 1000,
            ["retry_base_delay"] = "10ms",
            ["retry_max_delay"] = "100ms",
        };
        more?.Invoke(o);
        return o;
    }

    private static async Task Flush(ISink sink, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await sink.FlushAsync(cts.Token);
    }

    [Fact]
    public async Task Random_500s_are_retried_and_every_row_keeps_its_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var rnd = new Random(1);
        receiver.Respond = _ => { lock (rnd) return rnd.NextDouble() < 0.3 ? new Reply(500) : new Reply(); };
        var log = new RecordingLogger(output);
        var sink = Sink(Settings(receiver.BaseUrl + "/hook"), log);
        await using (sink)
        {
            var events = History("items", rows: 40, updates: 10, deletes: true);
            foreach (var chunk in events.Chunk(97)) await sink.WriteAsync(chunk, default);
            await Flush(sink, TimeSpan.FromSeconds(30));
            Assert.Equal(0, sink.Pending);
            AssertSameHistories(Expected(events), ByRow(receiver.Events().Select(e => e.Event)));
            Assert.Equal(events.Count, sink.Stats.Delivered);
            Assert.True(sink.Stats.Retries > 50, sink.Stats.ToString());
        }
    }

    [Fact]
    public async Task Retry_after_on_429_and_503_is_honoured()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var calls = new ConcurrentDictionary<string, int>();
        receiver.Respond = r => calls.AddOrUpdate(r.Path, 1, (_, n) => n + 1) switch
        {
            1 when r.Path == "/a" => new Reply(429, RetryAfter: "1"),
            1 when r.Path == "/b" => new Reply(503, RetryAfter: DateTimeOffset.UtcNow.AddSeconds(2).ToString("R")),
            _ => new Reply(),
        };
        var firstSeen = new ConcurrentDictionary<string, long>();
        var gaps = new ConcurrentDictionary<string, TimeSpan>();
        var inner = receiver.Respond;
        receiver.Respond = r =>
        {
            var now = Stopwatch.GetTimestamp();
            if (!firstSeen.TryAdd(r.Path, now)) gaps.TryAdd(r.Path, Stopwatch.GetElapsedTime(firstSeen[r.Path], now));
            return inner(r);
        };
        var settings = Settings(receiver.BaseUrl + "/a", o => o["tasks"] = new JsonArray(
            new JsonObject { ["id"] = "a", ["table"] = "a", ["url"] = receiver.BaseUrl + "/a" },
            new JsonObject { ["id"] = "b", ["table"] = "b", ["url"] = receiver.BaseUrl + "/b" }));
        await using var sink = Sink(settings, new RecordingLogger(output));
        await sink.WriteAsync([Row("a", ChangeOperation.Insert, 1, 0), Row("b", ChangeOperation.Insert, 2, 0)], default);
        await Flush(sink, TimeSpan.FromSeconds(10));
        output.WriteLine($"gaps: a {gaps["/a"].TotalMilliseconds:0} ms, b {gaps["/b"].TotalMilliseconds:0} ms");
        Assert.InRange(gaps["/a"].TotalMilliseconds, 950, 30_000); // backoff alone would be ~10 ms
        Assert.InRange(gaps["/b"].TotalMilliseconds, 900, 3500); // an HTTP date has 1 s precision
        Assert.Equal(2, sink.Stats.Delivered);
    }

    [Fact]
    public async Task Permanent_4xx_and_exhausted_retries_go_to_the_dead_letter_file()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = r => r.Path switch
        {
            "/bad" => new Reply(422),
            "/down" => new Reply(500),
            _ => new Reply(),
        };
        var dir = TestTemp.CreateSubdirectory("pluginhost-dlq-").FullName;
        var settings = new JsonObject
        {
            ["callback_host"] = receiver.BaseUrl,
            ["tasks"] = new JsonArray(
                new JsonObject { ["id"] = "bad", ["table"] = "bad", ["url"] = "/bad" },
                new JsonObject { ["id"] = "down", ["table"] = "down", ["url"] = "/down" },
                new JsonObject { ["id"] = "ok", ["table"] = "ok", ["url"] = "/ok" }),
            ["max_retries"] = 2,
            ["retry_base_delay"] = "10ms",
            ["dead_letter"] = "failed/dlq.jsonl",
        };
        await using var sink = Sink(settings, new RecordingLogger(output), dir);
        await sink.WriteAsync([Row("bad", ChangeOperation.Insert, 1, 0), Row("down", ChangeOperation.Update, 2, 5), Row("ok", ChangeOperation.Insert, 3, 0)], default);
        await Flush(sink, TimeSpan.FromSeconds(10));
        Assert.Equal(1, sink.Stats.Delivered);
        Assert.Equal(2, sink.Stats.DeadLettered);
        var path = Path.Combine(dir, "failed", "dlq.jsonl");
        Assert.Equal(path, sink.DeadLetterPath);
        var lines = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).OrderBy(l => l["task"]!.GetValue<string>()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal("bad", lines[0]["task"]!.GetValue<string>());
        Assert.Equal(422, lines[0]["status"]!.GetValue<int>());
        Assert.Equal(1, lines[0]["attempts"]!.GetValue<int>()); // permanent: no retry
        Assert.StartsWith("HTTP 422", lines[0]["error"]!.GetValue<string>());
        Assert.Equal("down", lines[1]["task"]!.GetValue<string>());
        Assert.Equal(500, lines[1]["status"]!.GetValue<int>());
        Assert.Equal(3, lines[1]["attempts"]!.GetValue<int>()); // first try + max_retries
        Assert.Equal(receiver.BaseUrl + "/down", lines[1]["url"]!.GetValue<string>());
        // The line reads back into the same event, aimed at its task.
        var entry = DeadLetterCommand.Parse(File.ReadAllLines(path).First(l => l.Contains("\"down\"")));
        Assert.Equal("down", entry.Event.Destination);
        Assert.Equal(ChangeEventJson.Serialize(Row("down", ChangeOperation.Update, 2, 5)), ChangeEventJson.Serialize(entry.Event));
        Assert.Equal(Row("down", ChangeOperation.Update, 2, 5).RowKey(), entry.Event.RowKey());
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Without_a_dead_letter_file_failures_are_held_until_the_receiver_accepts_them()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var accept = false;
        receiver.Respond = _ => Volatile.Read(ref accept) ? new Reply() : new Reply(400);
        await using var sink = Sink(Settings(receiver.BaseUrl + "/x", o => o["max_retries"] = 1), new RecordingLogger(output));
        var events = History("t", rows: 5, updates: 3);
        await sink.WriteAsync(events, default);
        var flush = sink.FlushAsync(default).AsTask();
        await Task.Delay(1000);
        Assert.False(flush.IsCompleted);
        Assert.True(sink.HoldingLanes > 0);
        Assert.Equal(0, sink.Stats.DeadLettered);
        Volatile.Write(ref accept, true);
        await flush.WaitAsync(TimeSpan.FromSeconds(10));
        AssertSameHistories(Expected(events), ByRow(receiver.Events().Select(e => e.Event)));
        Assert.Equal(0, sink.HoldingLanes);
    }

    [Fact]
    public async Task Timeouts_are_retried_and_redeliveries_keep_their_webhook_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var seen = new ConcurrentDictionary<string, int>();
        // The first attempt of every third request hangs past the client's timeout.
        var n = 0;
        receiver.Respond = r =>
        {
            var attempt = seen.AddOrUpdate(r.Header("webhook-id")!, 1, (_, c) => c + 1);
            return attempt == 1 && Interlocked.Increment(ref n) % 3 == 0 ? new Reply(Delay: TimeSpan.FromSeconds(3)) : new Reply();
        };
        await using var sink = Sink(Settings(receiver.BaseUrl + "/x", o => o["timeout"] = "300ms"), new RecordingLogger(output));
        var events = History("t", rows: 10, updates: 4);
        await sink.WriteAsync(events, default);
        await Flush(sink, TimeSpan.FromSeconds(30));
        AssertSameHistories(Expected(events), ByRow(receiver.Events().Select(e => e.Event)));
        Assert.Contains(seen.Values, c => c > 1);
        Assert.Equal(events.Count, seen.Count); // one id per event, whatever the attempts
    }

    /// <summary>Connection refused: the receiver is down for <paramref name="seconds"/>, events keep coming.</summary>
    [Theory]
    [InlineData(3)]
    public async Task A_receiver_down_for_a_while_gets_everything_in_order_when_it_is_back(int seconds)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await receiver.StopAsync();
        await using var sink = Sink(Settings(receiver.BaseUrl + "/x", o => o["retry_max_delay"] = "500ms"), new RecordingLogger(output));
        var events = History("t", rows: 30, updates: 5);
        var write = Task.Run(async () =>
        {
            foreach (var chunk in events.Chunk(20))
            {
                await sink.WriteAsync(chunk, default);
                await Task.Delay(seconds * 1000 / 10);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Assert.Equal(0, receiver.Requests);
        Assert.True(sink.Stats.FailedRequests > 0);
        await receiver.StartAgainAsync();
        await write;
        await Flush(sink, TimeSpan.FromSeconds(20));
        AssertSameHistories(Expected(events), ByRow(receiver.Events().Select(e => e.Event)));
    }

    [Fact]
    public async Task Batches_carry_up_to_batch_size_events_as_a_json_array_in_row_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var sink = Sink(Settings(receiver.BaseUrl + "/x", o =>
        {
            o["batch_size"] = 10;
            o["worker_count"] = 2;
        }), new RecordingLogger(output));
        var events = History("t", rows: 7, updates: 13);
        foreach (var chunk in events.Chunk(33)) await sink.WriteAsync(chunk, default);
        await Flush(sink, TimeSpan.FromSeconds(10));
        var requests = receiver.Accepted.ToList();
        Assert.All(requests, r => Assert.StartsWith("[", r.Body));
        Assert.All(requests, r => Assert.InRange(r.Events().Count(), 1, 10));
        Assert.True(requests.Count < events.Count / 5, $"{requests.Count} requests for {events.Count} events");
        AssertSameHistories(Expected(events), ByRow(receiver.Events().Select(e => e.Event)));
    }

    [Fact]
    public async Task Unrouted_events_are_acknowledged_and_counted_headers_and_auth_are_sent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new JsonObject
        {
            ["callback_host"] = receiver.BaseUrl + "/api",
            ["tasks"] = new JsonArray(
                new JsonObject { ["table"] = "users", ["events"] = new JsonArray("insert"), ["url"] = "/u", ["headers"] = new JsonObject { ["X-Tenant"] = "42" }, ["auth"] = new JsonObject { ["bearer"] = "s3cret" } },
                new JsonObject { ["table"] = "users", ["events"] = new JsonArray("insert"), ["url"] = "/v", ["auth"] = new JsonObject { ["basic"] = new JsonObject { ["username"] = "ann", ["password"] = "pw" } } }),
        };
        await using var sink = Sink(settings, new RecordingLogger(output));
        await sink.WriteAsync([Row("users", ChangeOperation.Insert, 1, 0), Row("users", ChangeOperation.Update, 1, 1), Row("orders", ChangeOperation.Insert, 2, 0)], default);
        await Flush(sink, TimeSpan.FromSeconds(10));
        Assert.Equal(2, sink.Stats.Unrouted);
        Assert.Equal(2, sink.Stats.Delivered); // one insert, two tasks
        var u = receiver.Accepted.Single(r => r.Path == "/api/u");
        Assert.Equal("Bearer s3cret", u.Header("Authorization"));
        Assert.Equal("42", u.Header("X-Tenant"));
        Assert.StartsWith("application/json", u.Header("Content-Type"));
        Assert.StartsWith("msg_", u.Header("webhook-id"));
        Assert.Null(u.Header("webhook-signature")); // no secret
        var v = receiver.Accepted.Single(r => r.Path == "/api/v");
        Assert.Equal("Basic " + Convert.ToBase64String("ann:pw"u8.ToArray()), v.Header("Authorization"));
    }

    /// <summary><c>pluginhost deadletter replay</c> as a command: the real executable, the plugin loaded from plugins_dir.</summary>
    [Fact]
    public async Task Deadletter_replay_command_resends_through_the_plugin_loaded_by_the_host()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var dir = TestTemp.CreateSubdirectory("pluginhost-replay-cli-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, $$"""
            plugins_dir: {{PluginHost.Config.PluginDirectories.BuiltPlugins}}
            server: { enabled: false }
            pipelines:
              - name: hooks
                source: { host: 127.0.0.1, user: root, server_id: 99 }
                sink: { type: webhook, callback_host: "{{receiver.BaseUrl}}", dead_letter: dlq.jsonl,
                        tasks: [ { id: users, table: users, url: /users }, { id: all, table: "*", url: /all } ] }
            """);
        var dlq = Path.Combine(dir, "dlq.jsonl");
        var lines = new[] { Row("users", ChangeOperation.Insert, 1, 0), Row("users", ChangeOperation.Update, 1, 1) }
            .Select(e => new JsonObject
            {
                ["event"] = JsonNode.Parse(ChangeEventJson.Serialize(e)), ["task"] = "users", ["url"] = "http://old/users", ["status"] = 500,
                ["error"] = "HTTP 500", ["attempts"] = 6, ["transaction"] = e.TransactionId, ["index"] = 0, ["key"] = new JsonArray("id"),
            }.ToJsonString());
        await File.WriteAllLinesAsync(dlq, lines);
        using var host = PluginHost.Tests.Support.HostProcess.Start(Path.Combine(dir, "replay.log"), "deadletter", "replay", dlq, "--config", config);
        await Wait.UntilAsync(() => host.HasExited, TimeSpan.FromSeconds(30), host.ReadLog);
        var log = host.ReadLog();
        output.WriteLine(log);
        Assert.Contains("replayed 2 event(s): 2 delivered, 0 dead-lettered again", log);
        // Only to the task they failed on (not to "all"), in row order.
        Assert.Equal(["/users", "/users"], receiver.Accepted.Select(r => r.Path));
        Assert.Equal(["i0", "u1"], receiver.Events().Select(e => Step(e.Event)));
        Assert.False(File.Exists(dlq));
        Assert.Single(Directory.GetFiles(dir, "dlq.jsonl.replayed-*"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Flush_waits_for_every_lane_and_a_closed_sink_refuses_writes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = r => r.Body.Contains("\"id\":3,") ? new Reply(Delay: TimeSpan.FromMilliseconds(800)) : new Reply();
        var sink = Sink(Settings(receiver.BaseUrl + "/x"), new RecordingLogger(output));
        await sink.WriteAsync(History("t", rows: 8, updates: 0), default);
        var sw = Stopwatch.StartNew();
        await Flush(sink, TimeSpan.FromSeconds(10));
        Assert.True(sw.ElapsedMilliseconds >= 700, $"flush returned after {sw.ElapsedMilliseconds} ms");
        Assert.Equal(8, receiver.Accepted.Count);
        await sink.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await sink.WriteAsync([Row("t", ChangeOperation.Insert, 9, 0)], default));
    }
}
