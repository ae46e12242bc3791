using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;

namespace PluginHost.Tests.Webhook;

/// <summary>Settings, routing, URL building, payloads and retry rules, without a network.</summary>
public sealed class WebhookUnitTests
{
    private static WebhookSettings Settings(string json) => WebhookSettings.From(JsonDocument.Parse(json).RootElement, "/base");

    private static SinkConfigurationException Invalid(string json) => Assert.Throws<SinkConfigurationException>(() => Settings(json));

    [Fact]
    public void Relative_urls_join_callback_host_once_keeping_its_path_and_absolute_urls_stay()
    {
        var s = Settings("""
            {"type":"webhook","callback_host":"https://api.example.com/base","tasks":[
              {"table":"users","url":"/hooks/users"},
              {"table":"orders","url":"hooks/orders"},
              {"table":"x","url":"http://other.example:8080/x?y=1"}]}
            """.Replace("\"hooks/orders\"", "\"/hooks/orders\""));
        Assert.Equal(["https://api.example.com/base/hooks/users", "https://api.example.com/base/hooks/orders", "http://other.example:8080/x?y=1"],
            s.Routes.Select(r => r.Url.ToString()));
        Assert.Equal("http://h/a/b", WebhookRoute.Join("http://h/", "/a/b"));
        Assert.Equal("http://h/p/a", WebhookRoute.Join("http://h/p", "a"));
    }

    [Fact]
    public void Tables_match_by_name_or_database_dot_name_including_keywords_and_odd_names()
    {
        var s = Settings("""
            {"callback_host":"http://h","tasks":[
              {"id":"kw","table":"order","url":"/o"},
              {"id":"odd","table":"2024_user-activity_log","events":["insert"],"url":"/a"},
              {"id":"q","table":"shop.users","events":["update","delete"],"url":"/u"},
              {"id":"pat","table":"audit.*","url":"/audit"},
              {"id":"dotted","table":"weird.na.me","url":"/w"}]}
            """);
        var router = new WebhookRouter(s.Routes);
        string[] Ids(string db, string table, ChangeOperation op) =>
            router.Find(new ChangeEvent { Database = db, Table = table, Op = op }).Select(r => r.Id).ToArray();
        Assert.Equal(["kw"], Ids("shop", "order", ChangeOperation.Delete));
        Assert.Equal(["kw"], Ids("other", "order", ChangeOperation.Insert));
        Assert.Empty(Ids("shop", "orders", ChangeOperation.Insert));
        Assert.Equal(["odd"], Ids("shop", "2024_user-activity_log", ChangeOperation.Insert));
        Assert.Empty(Ids("shop", "2024_user-activity_log", ChangeOperation.Update));
        Assert.Equal(["q"], Ids("shop", "users", ChangeOperation.Update));
        Assert.Empty(Ids("shop", "users", ChangeOperation.Insert));
        Assert.Empty(Ids("crm", "users", ChangeOperation.Update));
        Assert.Equal(["pat"], Ids("audit", "log_2026", ChangeOperation.Insert));
        Assert.Equal(["dotted"], Ids("weird", "na.me", ChangeOperation.Insert));
        Assert.Equal(["dotted"], Ids("x", "weird.na.me", ChangeOperation.Insert));
        // A destination (a task id, as set by deadletter replay or a transform) wins over the table rules.
        Assert.Equal(["q"], router.Find(new ChangeEvent { Database = "shop", Table = "users", Op = ChangeOperation.Insert, Destination = "q" }).Select(r => r.Id));
    }

    [Fact]
    public void Defaults_and_auth_headers()
    {
        var s = Settings("""
            {"tasks":[{"table":"t","url":"http://h/t","headers":{"X-Env":"prod"},"auth":{"bearer":"tok"}},
                      {"table":"t","url":"http://h/u","auth":{"basic":{"username":"ann","password":"pw:1"}}}]}
            """);
        Assert.Equal(20, s.Options.WorkerCount);
        Assert.Equal(100, s.Options.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Options.Timeout);
        Assert.Equal(5, s.Options.MaxRetries);
        Assert.Equal(WebhookFormat.Json, s.Format);
        Assert.Equal(1, s.Options.BatchSize);
        Assert.Null(s.DeadLetterPath);
        Assert.Equal([new("X-Env", "prod"), new("Authorization", "Bearer tok")], s.Routes[0].Headers);
        Assert.Equal("Basic " + Convert.ToBase64String("ann:pw:1"u8.ToArray()), s.Routes[1].Headers.Single().Value);
        Assert.Equal("http://h/t", s.Routes[0].Id); // default id: the URL as written
    }

    [Theory]
    [InlineData("""{"tasks":[]}""", "tasks")]
    [InlineData("""{"tasks":[{"table":"t","url":"/x"}]}""", "tasks[0].url")]
    [InlineData("""{"callback_host":"ftp://h","tasks":[{"table":"t","url":"/x"}]}""", "callback_host")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h","events":["insert","upsert"]}]}""", "tasks[0].events[1]")]
    [InlineData("""{"tasks":[{"url":"http://h"}]}""", "tasks[0].table")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"format":"xml"}""", "format")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"batch_size":0}""", "batch_size")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"secret":"whsec_!!"}""", "secret")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"retry_max_delay":"1s","retry_base_delay":"5s"}""", "retry_max_delay")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"timeout":"soon"}""", "timeout")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h"}],"worker_cnt":3}""", "worker_cnt")]
    [InlineData("""{"tasks":[{"table":"t","url":"http://h","auth":{"bearer":"a","basic":{"username":"u"}}}]}""", "tasks[0].auth")]
    [InlineData("""{"tasks":[{"id":"a","table":"t","url":"http://h"},{"id":"a","table":"u","url":"http://h"}]}""", "tasks[1].id")]
    public void Bad_settings_name_the_key(string json, string key)
    {
        var e = Invalid(json);
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void All_problems_are_reported_together()
    {
        var e = Invalid("""{"tasks":[{"table":"t","url":"x"}],"format":"xml","worker_count":0}""");
        Assert.Contains("format", e.Message);
        Assert.Contains("worker_count", e.Message);
    }

    [Fact]
    public void Json_payload_is_the_event_json()
    {
        var e = WebhookEvents.Row("users", ChangeOperation.Update, 7, 3);
        Assert.Equal(ChangeEventJson.Serialize(e), WebhookPayload.Serialize(e, WebhookFormat.Json));
    }

    [Fact]
    public void Pikachu_payload_has_pikachus_exact_fields()
    {
        var insert = JsonNode.Parse(WebhookPayload.Serialize(WebhookEvents.Row("users", ChangeOperation.Insert, 1, 0), WebhookFormat.Pikachu))!.AsObject();
        Assert.Equal(["event", "table", "primary_id", "data", "timestamp"], insert.Select(p => p.Key));
        Assert.Equal("insert", insert["event"]!.GetValue<string>());
        Assert.Equal("users", insert["table"]!.GetValue<string>());
        Assert.Equal(1, insert["primary_id"]!.GetValue<long>());
        Assert.Equal("""{"id":1,"v":0,"name":"row 1"}""", insert["data"]!.ToJsonString());
        Assert.Equal("2026-11-21T10:00:00Z", insert["timestamp"]!.GetValue<string>());

        var update = JsonNode.Parse(WebhookPayload.Serialize(WebhookEvents.Row("users", ChangeOperation.Update, 1, 2), WebhookFormat.Pikachu))!.AsObject();
        Assert.Equal(["event", "table", "primary_id", "old_data", "new_data", "timestamp"], update.Select(p => p.Key));
        Assert.Equal(1, update["old_data"]!["v"]!.GetValue<long>());
        Assert.Equal(2, update["new_data"]!["v"]!.GetValue<long>());

        var delete = JsonNode.Parse(WebhookPayload.Serialize(WebhookEvents.Row("users", ChangeOperation.Delete, 1, 2), WebhookFormat.Pikachu))!.AsObject();
        Assert.Equal(["event", "table", "primary_id", "data", "timestamp"], delete.Select(p => p.Key));
        Assert.Equal(2, delete["data"]!["v"]!.GetValue<long>());

        // composite key → an object; no key → the id column, else null (as pikachu's GetPrimaryKey)
        var composite = new ChangeEvent
        {
            Op = ChangeOperation.Insert, Database = "d", Table = "t",
            Schema = new TableInfo("d", "t", [new ColumnInfo("a", ColumnKind.Integer, true), new ColumnInfo("b", ColumnKind.Text, true)]),
            After = new Row { ["a"] = 1L, ["b"] = "x" },
        };
        Assert.Equal("""{"a":1,"b":"x"}""", JsonNode.Parse(WebhookPayload.Serialize(composite, WebhookFormat.Pikachu))!["primary_id"]!.ToJsonString());
        var keyless = new ChangeEvent { Op = ChangeOperation.Insert, Database = "d", Table = "t", After = new Row { ["id"] = 9L } };
        Assert.Equal(9, JsonNode.Parse(WebhookPayload.Serialize(keyless, WebhookFormat.Pikachu))!["primary_id"]!.GetValue<long>());
        var nothing = new ChangeEvent { Op = ChangeOperation.Insert, Database = "d", Table = "t", After = new Row { ["x"] = 9L } };
        Assert.Null(JsonNode.Parse(WebhookPayload.Serialize(nothing, WebhookFormat.Pikachu))!["primary_id"]);
    }

    [Fact]
    public void Lanes_follow_the_primary_key_values_and_a_key_change_names_the_old_lane()
    {
        var schema = new TableInfo("d", "t", [new ColumnInfo("a", ColumnKind.Integer, true), new ColumnInfo("b", ColumnKind.Binary, true), new ColumnInfo("v", ColumnKind.Text)]);
        ChangeEvent Update(object? a, byte[] b, object? a2, byte[] b2, string v = "x") => new()
        {
            Op = ChangeOperation.Update, Database = "d", Table = "t", Schema = schema,
            Before = new Row { ["a"] = a, ["b"] = b, ["v"] = "old" },
            After = new Row { ["a"] = a2, ["b"] = b2, ["v"] = v },
        };
        const int Lanes = 64;
        // Same key: same lane, whatever else changes; binary key values by content; an int where a long was, too.
        var same = Update(1L, [1, 2], 1L, [1, 2]);
        Assert.False(same.ChangesPrimaryKey());
        Assert.False(RowLanes.MovesLane(same, RowLanes.Of(same, Lanes), Lanes, out _));
        Assert.Equal(RowLanes.Of(same, Lanes), RowLanes.Of(Update(1L, [1, 2], 1L, [1, 2], "other"), Lanes));
        Assert.Equal(RowLanes.Of(same, Lanes), RowLanes.Of(Update(1L, [1, 2], 1, [1, 2]), Lanes));
        Assert.Equal(RowLanes.Of(same, same.Before, Lanes), RowLanes.Of(same, Lanes));

        // Keys spread over lanes (many distinct keys cannot all share one).
        Assert.True(Enumerable.Range(0, 200).Select(i => RowLanes.Of(Update(1L, [1], (long)i, [1]), Lanes)).Distinct().Count() > 16);

        // A key change: the old lane is the before image's.
        var moved = Enumerable.Range(2, 200).Select(i => Update(1L, [1, 2], (long)i, [1, 2])).First(e => RowLanes.Of(e, Lanes) != RowLanes.Of(same, Lanes));
        Assert.True(moved.ChangesPrimaryKey());
        Assert.True(RowLanes.MovesLane(moved, RowLanes.Of(moved, Lanes), Lanes, out var old));
        Assert.Equal(RowLanes.Of(same, Lanes), old);
        Assert.True(Update(1L, [1, 2], 1L, [1, 3]).ChangesPrimaryKey()); // binary key changed

        // A keyless table: one lane for all its rows; one lane: lane 0.
        var keyless = new ChangeEvent { Op = ChangeOperation.Insert, Database = "d", Table = "k", After = new Row { ["x"] = 1L } };
        var keyless2 = new ChangeEvent { Op = ChangeOperation.Insert, Database = "d", Table = "k", After = new Row { ["x"] = 2L } };
        Assert.Equal(RowLanes.Of(keyless, Lanes), RowLanes.Of(keyless2, Lanes));
        Assert.Equal(0, RowLanes.Of(moved, 1));
    }

    [Theory]
    [InlineData(200, false, false)]
    [InlineData(204, false, false)]
    [InlineData(500, true, false)]
    [InlineData(502, true, false)]
    [InlineData(503, true, false)]
    [InlineData(429, true, false)]
    [InlineData(408, true, false)]
    [InlineData(400, false, true)]
    [InlineData(401, false, true)]
    [InlineData(404, false, true)]
    [InlineData(422, false, true)]
    [InlineData(301, false, true)]
    public void Status_classification(int status, bool retried, bool permanent)
    {
        var r = RetryPolicy.Classify(status, "", null, DateTimeOffset.UtcNow);
        Assert.Equal(status is >= 200 and < 300, r.Success);
        Assert.Equal(permanent, r.Permanent);
        Assert.Equal(retried, !r.Success && !r.Permanent);
    }

    [Fact]
    public void Retry_after_seconds_or_http_date_on_429_and_503_only()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(3), RetryPolicy.Classify(429, "", "3", now).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(90), RetryPolicy.Classify(503, "", "Thu, 01 Jan 2026 00:01:30 GMT", now).RetryAfter);
        Assert.Null(RetryPolicy.Classify(500, "", "3", now).RetryAfter);
        Assert.Null(RetryPolicy.Classify(429, "", "soon", now).RetryAfter);
        Assert.Equal(RetryPolicy.MaxRetryAfter, RetryPolicy.Classify(429, "", "999999", now).RetryAfter);
    }

    [Fact]
    public void Backoff_doubles_with_jitter_up_to_the_maximum()
    {
        var p = new RetryPolicy(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
        // Attempt n waits a random point of [c/2, c], c = min(1 s, 100 ms × 2^(n-1)): spread over the whole range
        // (each fifth of it gets its share; a fixed delay, at the top or anywhere, fails) and doubling per attempt.
        const int samples = 4000;
        var means = new double[6];
        foreach (var (attempt, ceiling) in new[] { (1, 100.0), (2, 200.0), (3, 400.0), (4, 800.0), (5, 1000.0), (10, 1000.0) })
        {
            var delays = Enumerable.Range(0, samples).Select(_ => p.Delay(attempt, null).TotalMilliseconds).ToArray();
            Assert.All(delays, d => Assert.InRange(d, ceiling / 2, ceiling));
            var fifths = new int[5];
            foreach (var d in delays) fifths[Math.Min(4, (int)((d - ceiling / 2) / (ceiling / 10)))]++;
            Assert.All(fifths, n => Assert.InRange((double)n, samples / 5 * 0.7, samples / 5 * 1.3)); // about 800 each
            var mean = delays.Average();
            Assert.InRange(mean, ceiling * 0.72, ceiling * 0.78); // the middle of [c/2, c]
            if (attempt <= 5) means[attempt] = mean;
        }
        for (var n = 2; n <= 4; n++) Assert.InRange(means[n] / means[n - 1], 1.85, 2.15); // doubles per attempt
        Assert.InRange(means[5] / means[4], 1.15, 1.35); // then capped at retry_max_delay (1000 / 800)
        Assert.Equal(TimeSpan.FromSeconds(7), p.Delay(1, TimeSpan.FromSeconds(7)));
        Assert.False(p.Exhausted(5, false));
        Assert.True(p.Exhausted(6, false));
        Assert.True(p.Exhausted(1, true));
    }

    [Fact]
    public void Signatures_follow_standard_webhooks()
    {
        // The example of the Standard Webhooks specification.
        Assert.True(StandardWebhookSigner.TryParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out var key));
        var sig = new StandardWebhookSigner(key).Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""u8);
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig);
    }
}
