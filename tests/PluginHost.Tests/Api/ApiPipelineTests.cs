using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Api;

/// <summary>The pipeline endpoints of the REST API against a running host on a real MariaDB.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiPipelineTests(MariaDbServer db)
{
    private string NewDatabase(string tables = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));")
    {
        var name = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; {tables}");
        return name;
    }

    [Fact]
    public async Task Pipelines_show_state_position_counters_sink_and_never_a_secret()
    {
        const string password = "Pw-Sekr1t-4711";
        const string webhookSecret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Njc4";
        const string headerSecret = "hdr-secret-8642";
        db.Sql($"CREATE USER IF NOT EXISTS 'api_cdc'@'127.0.0.1' IDENTIFIED BY '{password}'; " +
               "GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'api_cdc'@'127.0.0.1';");
        var database = NewDatabase();
        var hookPort = MariaDbServer.FreePort();
        var pipelines = ApiTestHost.PipelineYaml(db, "show", database, user: "api_cdc", password: password) + $$"""
              - name: hook
                source: { host: 127.0.0.1, port: {{db.Port}}, user: api_cdc, password: "{{password}}", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                sink:
                  type: webhook
                  secret: "{{webhookSecret}}"
                  worker_count: 1
                  max_retries: 1
                  retry_base_delay: 20ms
                  retry_max_delay: 50ms
                  dead_letter: hook-dead.jsonl
                  tasks: [{ table: "*", url: "http://api_user:url-pass-5511@127.0.0.1:{{hookPort}}/hook", headers: { Authorization: "Bearer {{headerSecret}}" } }]
              - name: badhook
                source: { host: 127.0.0.1, port: {{db.Port}}, user: api_cdc, password: "{{password}}", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                sink: { type: webhook, tasks: [{ table: "*", url: "ftp://api_user:url-pass-5511@127.0.0.1:{{hookPort}}/hook" }] }
            """;
        await using var host = await ApiTestHost.StartNewAsync(pipelines);
        await host.WaitForStateAsync("show", "running");
        db.Sql("INSERT INTO t VALUES (1,'a'),(2,'b'); UPDATE t SET v='c' WHERE id=1;", database);
        var p = await host.WaitForCheckpointAsync("show", 3);
        // Nothing listens on the hook's port: every request fails, is retried once, and is dead-lettered — logging its URL.
        await host.WaitForCheckpointAsync("hook", 3);
        await host.WaitForLogAsync(l => l.Contains($"http://***@127.0.0.1:{hookPort}/hook failed", StringComparison.Ordinal), "the webhook's failure, URL userinfo masked");
        await host.WaitForLogAsync(l => l.Contains("dead-lettered", StringComparison.Ordinal), "the webhook's dead letters");
        // The ftp URL is refused when the sink is made: failed, with the URL (password masked) in last_error and the log.
        var bad = await host.WaitForStateAsync("badhook", "failed");
        var lastError = bad.GetProperty("last_error").GetProperty("message").GetString()!;
        Assert.Contains("ftp://***@127.0.0.1", lastError);
        await host.WaitForLogAsync(l => l.Contains("cannot create its webhook sink", StringComparison.Ordinal) && l.Contains("ftp://***@", StringComparison.Ordinal),
            "the failed sink's error, URL userinfo masked");

        var (status, list, _) = await host.GetAsync("pipelines");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["show", "hook", "badhook"], list.EnumerateArray().Select(x => x.GetProperty("name").GetString()!));
        p = list.EnumerateArray().First(x => x.GetProperty("name").GetString() == "show");
        Assert.Equal("running", p.GetProperty("state").GetString());
        Assert.Equal("file", p.GetProperty("origin").GetString());
        Assert.Equal(3, p.GetProperty("events").GetProperty("in").GetInt64());
        Assert.Equal(3, p.GetProperty("events").GetProperty("out").GetInt64());
        var position = p.GetProperty("position");
        Assert.StartsWith("mysql-bin.", position.GetProperty("file").GetString());
        Assert.True(position.GetProperty("pos").GetInt64() > 4);
        Assert.Matches(@"^\d+-\d+-\d+", p.GetProperty("gtid").GetString());
        Assert.Equal(JsonValueKind.Null, p.GetProperty("last_error").ValueKind);
        Assert.Equal("file", p.GetProperty("sink").GetProperty("type").GetString());
        Assert.Equal("built-in", p.GetProperty("sink").GetProperty("origin").GetString());
        Assert.True(p.GetProperty("binlog_bytes_read").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, p.GetProperty("config").ValueKind); // the list leaves definitions out

        var one = await host.PipelineAsync("show");
        Assert.Equal("api_cdc", one.GetProperty("config").GetProperty("source").GetProperty("user").GetString());
        Assert.Equal("***", one.GetProperty("config").GetProperty("source").GetProperty("password").GetString());
        var hook = await host.PipelineAsync("hook");
        Assert.Equal("webhook", hook.GetProperty("sink").GetProperty("type").GetString());
        Assert.Equal("plugin Webhook (test)", hook.GetProperty("sink").GetProperty("origin").GetString());
        var sink = hook.GetProperty("config").GetProperty("sink");
        Assert.Equal("***", sink.GetProperty("secret").GetString());
        var task = sink.GetProperty("tasks")[0];
        Assert.Equal("***", task.GetProperty("headers").GetProperty("Authorization").GetString());
        Assert.Equal($"http://***@127.0.0.1:{hookPort}/hook", task.GetProperty("url").GetString());

        // Health, metrics, the dashboard feed: nothing carries a secret either; nor does the log.
        await host.GetAsync("health");
        await host.GetAsync("metrics.json");
        await host.GetAsync("metrics");
        await host.GetAsync("openapi/v1.json");
        var stream = await host.StreamEventAsync();
        Assert.Contains("\"badhook\"", stream);
        foreach (var secret in new[] { password, webhookSecret, headerSecret, "url-pass-5511" })
        {
            Assert.DoesNotContain(host.Bodies, b => b.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, stream);
            Assert.DoesNotContain(secret, lastError);
            Assert.DoesNotContain(secret, host.Logs.Text);
            Assert.DoesNotContain(secret, host.Logs.StateText); // the structured values (the JSON formatter's State) too
        }
    }

    [Fact]
    public async Task Create_and_replace_validate_like_the_file_and_name_the_field_at_fault()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "base", database));
        var baseId = (await host.PipelineAsync("base")).GetProperty("config").GetProperty("source").GetProperty("server_id").GetInt64();
        string Json(string name, int port = 0, string extra = "", long? serverId = null) => $$"""
            {"name":"{{name}}","source":{"host":"127.0.0.1","port":{{(port == 0 ? db.Port : port)}},"user":"root","password":"","server_id":{{serverId ?? ApiTestHost.NextServerId()}},"ssl":"none"},
             "filter":{"include":["{{database}}.*"]},"sink":{"type":"file","path":"out-{{name}}.jsonl","fsync":false}{{extra}}}
            """;

        async Task<JsonElement> Rejected(string body, string contentType, HttpStatusCode expected, params string[] fields)
        {
            var (status, problem, response) = await host.PostAsync("pipelines", body, contentType);
            Assert.True(status == expected, $"{status}: {problem}\n{host.Logs.Text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
            foreach (var field in fields)
                Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages) && messages.GetArrayLength() > 0,
                    $"no error for {field}: {problem}");
            return problem;
        }

        var port = await Rejected(Json("bad1", port: 70000), "application/json", HttpStatusCode.BadRequest, "source.port");
        Assert.Contains("1-65535", port.GetProperty("errors").GetProperty("source.port")[0].GetString());
        await Rejected("name: bad2\nsource: [unclosed", "application/yaml", HttpStatusCode.BadRequest);
        await Rejected(Json("bad3").Replace("\"filter\"", "\"filtr\""), "application/json", HttpStatusCode.BadRequest, "filtr");
        await Rejected(Json("bad4").Replace("\"type\":\"file\"", "\"type\":\"nosuch\""), "application/json", HttpStatusCode.BadRequest, "sink.type");
        await Rejected(Json("bad5").Replace(",\"fsync\":false", ",\"fsync\":\"maybe\""), "application/json", HttpStatusCode.BadRequest, "sink.fsync");
        await Rejected(Json("bad6", serverId: baseId), "application/json", HttpStatusCode.BadRequest, "source.server_id");
        await Rejected("{\"name\": \"bad7\",", "application/json", HttpStatusCode.BadRequest, "(body)");
        await Rejected("[1, 2]", "application/json", HttpStatusCode.BadRequest, "(body)");
        await Rejected(Json("bad8").Replace("\"source\"", "\"name\":\"dup\",\"source\""), "application/json", HttpStatusCode.BadRequest);
        await Rejected(Json("bad9"), "text/plain", HttpStatusCode.UnsupportedMediaType);
        await Rejected(Json("bad/10"), "application/json", HttpStatusCode.BadRequest, "name");
        Assert.StartsWith("HTTP/1.1 413 ", await RawRequestAsync(host.Port,
            $"POST /pipelines HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ApiTestHost.Token}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{{"));

        // Valid YAML creates (201 + Location) and runs; the same name again is a conflict.
        var yaml = $$"""
            name: made
            source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
            filter: { include: ["{{database}}.*"] }
            sink: { type: file, path: out-made.jsonl, fsync: false }
            """;
        var (created, made, createdResponse) = await host.PostAsync("pipelines", yaml, "application/yaml");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("/pipelines/made", createdResponse.Headers.Location?.OriginalString);
        Assert.Equal("api", made.GetProperty("origin").GetString());
        await Rejected(yaml, "application/yaml", HttpStatusCode.Conflict);
        await host.WaitForStateAsync("made", "running");
        db.Sql("INSERT INTO t VALUES (1,'x');", database);
        await host.WaitForOutputAsync("made", 1);

        // PUT: the body's name must match the URL; without one it is taken from the URL; a change restarts the pipeline.
        var (mismatch, mismatchProblem, _) = await host.SendAsync(HttpMethod.Put, "pipelines/other", Json("made"));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
        Assert.True(mismatchProblem.GetProperty("errors").TryGetProperty("name", out _));
        var noName = Json("x").Replace("\"name\":\"x\",", "");
        var (putCreated, _, _) = await host.SendAsync(HttpMethod.Put, "pipelines/put1", noName.Replace("out-x", "out-put1"));
        Assert.Equal(HttpStatusCode.Created, putCreated);
        var replaced = noName.Replace("out-x", "out-put1").Replace("\"fsync\":false}", "\"fsync\":false},\"batch_size\":7");
        var (putReplaced, putBody, _) = await host.SendAsync(HttpMethod.Put, "pipelines/put1", replaced);
        Assert.Equal(HttpStatusCode.OK, putReplaced);
        Assert.Equal(7, putBody.GetProperty("config").GetProperty("batch_size").GetInt32());
        var (putBad, _, _) = await host.SendAsync(HttpMethod.Put, "pipelines/put1", replaced.Replace("\"batch_size\":7", "\"batch_size\":0"));
        Assert.Equal(HttpStatusCode.BadRequest, putBad);
        Assert.Equal(7, (await host.PipelineAsync("put1")).GetProperty("config").GetProperty("batch_size").GetInt32());
        await host.WaitForStateAsync("put1", "running");

        // PUT takes YAML too (without a name: the URL's); a bad YAML value is named like a bad JSON one.
        var putYaml = yaml.Replace("name: made\n", "").Replace("sink:", "batch_size: 9\nsink:");
        var (yamlReplaced, yamlBody, _) = await host.SendAsync(HttpMethod.Put, "pipelines/made", putYaml, "application/yaml");
        Assert.Equal(HttpStatusCode.OK, yamlReplaced);
        Assert.Equal(9, yamlBody.GetProperty("config").GetProperty("batch_size").GetInt32());
        var (yamlBad, yamlProblem, _) = await host.SendAsync(HttpMethod.Put, "pipelines/made", putYaml.Replace("batch_size: 9", "batch_size: nine"), "application/yaml");
        Assert.Equal(HttpStatusCode.BadRequest, yamlBad);
        Assert.True(yamlProblem.GetProperty("errors").TryGetProperty("batch_size", out _), yamlProblem.ToString());
        Assert.Equal(9, (await host.PipelineAsync("made")).GetProperty("config").GetProperty("batch_size").GetInt32());
        await host.WaitForStateAsync("made", "running");
        db.Sql("INSERT INTO t VALUES (2,'y');", database);
        await host.WaitForOutputAsync("made", 2); // restarted from its checkpoint: nothing lost

        // A file pipeline can be replaced over the API too; it becomes the API's.
        var (putBase, putBaseBody, _) = await host.SendAsync(HttpMethod.Put, "pipelines/base", Json("base", serverId: baseId).Replace("out-base", "out-base2"));
        Assert.Equal(HttpStatusCode.OK, putBase);
        Assert.Equal("api", putBaseBody.GetProperty("origin").GetString());

        var (_, all, _) = await host.GetAsync("pipelines");
        Assert.Equal(["base", "made", "put1"], all.EnumerateArray().Select(x => x.GetProperty("name").GetString()!).Order());

        // DELETE stops and forgets (with ?forget=true the checkpoint too).
        var checkpoint = Path.Combine(host.Dir, "state", "made.checkpoint.json");
        Assert.True(File.Exists(checkpoint));
        var (deleted, _, _) = await host.SendAsync(HttpMethod.Delete, "pipelines/made?forget=true");
        Assert.Equal(HttpStatusCode.NoContent, deleted);
        Assert.False(File.Exists(checkpoint));
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("pipelines/made")).Status);
        Assert.Null(host.Manager.Find("made"));
    }

    /// <summary>Sends raw HTTP (a body far larger than announced is never sent) and returns the response head.</summary>
    private static async Task<string> RawRequestAsync(int port, string request)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task Checking_a_replacement_never_touches_the_running_pipelines_output()
    {
        // Validating a PUT once built the sink itself: a file sink opening its file repairs a torn last line, and that cut
        // the running pipeline's write in progress off (a CI run found zeros where twenty rows belonged). A write in
        // progress is a torn tail here; a replacement refused only for what the host checks last (a server id another
        // pipeline uses) went through the sink's check, and must leave the file as it is.
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "writer", database) + ApiTestHost.PipelineYaml(db, "other", database));
        await host.WaitForStateAsync("writer", "running");
        db.Sql("INSERT INTO t VALUES (1,'a');", database);
        await host.WaitForOutputAsync("writer", 1);
        var path = Path.Combine(host.Dir, "out-writer.jsonl");
        File.AppendAllText(path, "{\"op\":\"insert\",\"torn"); // (the pipeline is idle: nothing else writes now)
        var before = File.ReadAllBytes(path);
        var taken = (await host.PipelineAsync("other")).GetProperty("config").GetProperty("source").GetProperty("server_id").GetInt64();
        var replacement = $$$"""
            {"name":"writer","source":{"host":"127.0.0.1","port":{{{db.Port}}},"user":"root","password":"","server_id":{{{taken}}},"ssl":"none"},
             "filter":{"include":["{{{database}}}.*"]},"sink":{"type":"file","path":"out-writer.jsonl","fsync":false}}
            """;
        var (status, problem, _) = await host.SendAsync(HttpMethod.Put, "pipelines/writer", replacement);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty("source.server_id", out _), problem.ToString());
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal("running", (await host.PipelineAsync("writer")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Unknown_pipelines_are_404_problems_everywhere()
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var calls = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Get, "pipelines/ghost", null),
            (HttpMethod.Delete, "pipelines/ghost", null),
            (HttpMethod.Post, "pipelines/ghost/pause", null),
            (HttpMethod.Post, "pipelines/ghost/resume", null),
            (HttpMethod.Post, "pipelines/ghost/restart", null),
            (HttpMethod.Post, "pipelines/ghost/seek", "\"latest\""),
        };
        foreach (var (method, path, body) in calls)
        {
            var (status, problem, response) = await host.SendAsync(method, path, body);
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path}: {status}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("ghost", problem.GetProperty("pipeline").GetString());
        }
        var (unknownRoute, _, routeResponse) = await host.GetAsync("no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, unknownRoute);
        Assert.Equal("application/problem+json", routeResponse.Content.Headers.ContentType?.MediaType);
        var (list, empty, _) = await host.GetAsync("pipelines");
        Assert.Equal(HttpStatusCode.OK, list);
        Assert.Equal(0, empty.GetArrayLength());
    }

    [Fact]
    public async Task Every_mutating_endpoint_needs_the_admin_token()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "guarded", database));
        var mutating = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Post, "pipelines", "{}"),
            (HttpMethod.Put, "pipelines/guarded", "{}"),
            (HttpMethod.Delete, "pipelines/guarded", null),
            (HttpMethod.Post, "pipelines/guarded/pause", null),
            (HttpMethod.Post, "pipelines/guarded/resume", null),
            (HttpMethod.Post, "pipelines/guarded/restart", null),
            (HttpMethod.Post, "pipelines/guarded/seek", "\"latest\""),
            (HttpMethod.Post, "reload", null),
        };
        foreach (var (method, path, body) in mutating)
        {
            foreach (var token in new string?[] { null, "wrong-token", ApiTestHost.Token + "x", ApiTestHost.Token[..^1], "" })
            {
                var (status, problem, response) = await host.SendAsync(method, path, body, token: token);
                Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {path} with token '{token}': {status}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
                Assert.Equal(401, problem.GetProperty("status").GetInt32());
            }
            var (basic, _, _) = await host.SendAsync(method, path, body, token: null,
                adjust: r => r.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String("admin:x"u8.ToArray())));
            Assert.Equal(HttpStatusCode.Unauthorized, basic);
            // A page on another site cannot use a browser's way in, token or not.
            var (crossSite, _, _) = await host.SendAsync(method, path, body, adjust: r => r.Headers.Add("Origin", "http://evil.example"));
            Assert.Equal(HttpStatusCode.Forbidden, crossSite);
        }
        Assert.Equal("running", (await host.WaitForStateAsync("guarded", "running")).GetProperty("state").GetString()); // nothing happened

        // With the token they work; reading never needs it.
        var (paused, p, _) = await host.SendAsync(HttpMethod.Post, "pipelines/guarded/pause", null,
            adjust: r => r.Headers.Add("Origin", $"http://127.0.0.1:{host.Port}"));
        Assert.Equal(HttpStatusCode.OK, paused);
        Assert.Equal("paused", p.GetProperty("state").GetString());
        foreach (var path in new[] { "pipelines", "pipelines/guarded", "health", "health/live", "health/ready", "metrics", "metrics.json", "plugins", "openapi/v1.json", "" })
            Assert.True((await host.GetAsync(path)).Status == HttpStatusCode.OK, path);
    }

    [Fact]
    public async Task Pause_resume_restart_and_seek_move_the_pipeline()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "mover", database));
        await host.WaitForStateAsync("mover", "running");
        var gtidBefore = db.Sql("SELECT @@gtid_binlog_pos;").Trim();
        var fileBefore = db.Sql("SHOW MASTER STATUS;").Split('\t');
        db.Sql("INSERT INTO t VALUES (1,'a'),(2,'b');", database);
        await host.WaitForOutputAsync("mover", 2);

        // Pause: stops gracefully with a checkpoint; changes made meanwhile wait.
        var (paused, pausedBody, _) = await host.PostAsync("pipelines/mover/pause");
        Assert.Equal(HttpStatusCode.OK, paused);
        Assert.Equal("paused", pausedBody.GetProperty("state").GetString());
        Assert.True(pausedBody.GetProperty("paused").GetBoolean());
        Assert.Equal("paused", (await host.PostAsync("pipelines/mover/pause")).Body.GetProperty("state").GetString()); // idempotent
        Assert.Null(host.Manager.Find("mover"));
        db.Sql("INSERT INTO t VALUES (3,'c');", database);
        await Task.Delay(800);
        Assert.Equal(2, host.Output("mover").Length);
        Assert.Equal("paused", (await host.PipelineAsync("mover")).GetProperty("state").GetString());

        // Resume: from the checkpoint, nothing lost, nothing repeated.
        var (resumed, _, _) = await host.PostAsync("pipelines/mover/resume");
        Assert.Equal(HttpStatusCode.OK, resumed);
        Assert.Equal(3, (await host.WaitForOutputAsync("mover", 3)).Length);
        await host.WaitForStateAsync("mover", "running");

        // Restart: the same.
        var (restarted, _, _) = await host.PostAsync("pipelines/mover/restart");
        Assert.Equal(HttpStatusCode.OK, restarted);
        await host.WaitForStateAsync("mover", "running");
        db.Sql("INSERT INTO t VALUES (4,'d');", database);
        await host.WaitForOutputAsync("mover", 4);
        await Task.Delay(300);
        Assert.Equal(4, host.Output("mover").Length);

        // Seek to a GTID from before the first insert: the four rows come again.
        var (seekGtid, gtidBody, _) = await host.PostAsync("pipelines/mover/seek", $$"""{"gtid":"{{gtidBefore}}"}""");
        Assert.True(seekGtid == HttpStatusCode.OK, gtidBody.ToString());
        Assert.Equal(8, (await host.WaitForOutputAsync("mover", 8)).Length);

        // Seek to a file and position (from before the first insert): again.
        var (seekFile, fileBody, _) = await host.PostAsync("pipelines/mover/seek", $$"""{"file":"{{fileBefore[0]}}","pos":{{fileBefore[1].Trim()}}}""");
        Assert.True(seekFile == HttpStatusCode.OK, fileBody.ToString());
        Assert.Equal(12, (await host.WaitForOutputAsync("mover", 12)).Length);

        // Seek to latest: nothing old comes again, new changes do.
        var (seekLatest, latestBody, _) = await host.PostAsync("pipelines/mover/seek", """{"start":"latest"}""");
        Assert.True(seekLatest == HttpStatusCode.OK, latestBody.ToString());
        var master = db.Sql("SHOW MASTER STATUS;").Split('\t');
        Assert.Equal(master[0], latestBody.GetProperty("position").GetProperty("file").GetString());
        Assert.Equal(long.Parse(master[1]), latestBody.GetProperty("position").GetProperty("pos").GetInt64());
        await host.WaitForStateAsync("mover", "running");
        db.Sql("INSERT INTO t VALUES (5,'e');", database);
        await host.WaitForOutputAsync("mover", 13);
        await Task.Delay(300);
        Assert.Equal(13, host.Output("mover").Length);
        Assert.Contains("\"id\":5", host.Output("mover")[^1]);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("pipelines/mover/seek", "\"latest\"")).Status);

        // Bad targets are 400s naming the field; the pipeline keeps running where it was.
        async Task BadSeek(string body, string field)
        {
            var (status, problem, _) = await host.PostAsync("pipelines/mover/seek", body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {status} {problem}");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{body}: {problem}");
        }
        await BadSeek("""{"gtid":"not-a-gtid"}""", "gtid");
        await BadSeek("""{"file":"mysql-bin.999999","pos":4}""", "file");
        await BadSeek($$"""{"file":"{{master[0]}}","pos":2}""", "pos");
        await BadSeek($$"""{"file":"{{master[0]}}","pos":99999999999}""", "pos");
        await BadSeek("""{"start":"yesterday"}""", "start");
        await BadSeek("""{"when":"now"}""", "(body)");
        await BadSeek("{", "(body)");
        await BadSeek("", "(body)");
        await host.WaitForStateAsync("mover", "running");

        // A paused pipeline moved by seek stays paused, at its new place.
        await host.PostAsync("pipelines/mover/pause");
        var (seekPaused, seekPausedBody, _) = await host.PostAsync("pipelines/mover/seek", $$"""{"gtid":"{{gtidBefore}}"}""");
        Assert.Equal(HttpStatusCode.OK, seekPaused);
        Assert.Equal("paused", seekPausedBody.GetProperty("state").GetString());
        Assert.Equal(gtidBefore, seekPausedBody.GetProperty("position").GetProperty("gtid").GetString());
        await host.PostAsync("pipelines/mover/resume");
        await host.WaitForOutputAsync("mover", 18);
    }
}
