using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Api;

/// <summary>/health, /metrics (checked by promtool), /metrics.json, the OpenAPI document and the state-change log.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiObservabilityTests(MariaDbServer db, ITestOutputHelper output)
{
    private string NewDatabase()
    {
        var name = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t1 (id INT PRIMARY KEY, v INT); CREATE TABLE t2 (id INT PRIMARY KEY, v INT);");
        return name;
    }

    [Fact]
    public async Task Health_has_pikachus_shape_an_entry_per_pipeline_and_is_503_when_one_failed()
    {
        var database = NewDatabase();
        var broken = ApiTestHost.PipelineYaml(db, "broken", database).Replace("ssl: none }", "ssl: none, start: { file: mysql-bin.999999, pos: 4 } }");
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "fine", database) + broken);
        await host.WaitForStateAsync("fine", "running");
        db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
        await host.WaitForCheckpointAsync("fine", 1); // last_event_time moves with the checkpoint
        var failed = await host.WaitForStateAsync("broken", "failed");
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("last_error").GetProperty("message").GetString()));
        Assert.NotEqual(JsonValueKind.Null, failed.GetProperty("last_error").GetProperty("at").ValueKind);

        var (status, health, _) = await host.GetAsync("health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("DOWN", health.GetProperty("status").GetString());
        foreach (var key in new[] { "uptime", "version", "last_event_time", "event_queue_size", "monitor_running", "dispatcher_running" })
            Assert.True(health.TryGetProperty(key, out _), key);
        Assert.Matches(@"^(\d+h)?(\d+m)?\d+s$", health.GetProperty("uptime").GetString());
        Assert.NotEqual(JsonValueKind.Null, health.GetProperty("last_event_time").ValueKind);
        var fine = health.GetProperty("pipelines").GetProperty("fine");
        Assert.Equal("UP", fine.GetProperty("status").GetString());
        Assert.Equal("running", fine.GetProperty("state").GetString());
        var down = health.GetProperty("pipelines").GetProperty("broken");
        Assert.Equal("DOWN", down.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(down.GetProperty("last_error").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/live")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/ready")).Status);

        // One log line per state change (and none per event); the failure is counted.
        await host.WaitForLogAsync(l => l.StartsWith("Error PluginHost.Pipelines: pipeline broken: ") && Regex.IsMatch(l, "(→ )?failed: .*mysql-bin.999999"),
            "for broken failing");
        await host.WaitForLogAsync(l => l.Contains("pipeline fine: starting → running") || l.Contains("pipeline fine: running"), "for fine running");
        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains("pluginhost_errors_total{kind=\"failed\",pipeline=\"broken\"} 1", metrics);
        Assert.Contains("pluginhost_pipeline_state{pipeline=\"broken\",state=\"failed\"} 1", metrics);

        // Without the failed pipeline the host is healthy again.
        Assert.Equal(HttpStatusCode.NoContent, (await host.SendAsync(HttpMethod.Delete, "pipelines/broken")).Status);
        (status, health, _) = await host.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("UP", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_are_valid_prometheus_exposition_with_events_by_table_and_op()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "counted", database));
        await host.WaitForStateAsync("counted", "running");
        db.Sql("INSERT INTO t1 VALUES (1,1),(2,2),(3,3); UPDATE t1 SET v = 9 WHERE id < 3; DELETE FROM t1 WHERE id = 3; INSERT INTO t2 VALUES (1,1);", database);
        await host.WaitForCheckpointAsync("counted", 7);

        var response = await host.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine(text);
        Assert.Contains($"pluginhost_events_total{{op=\"insert\",pipeline=\"counted\",table=\"{database}.t1\"}} 3", text);
        Assert.Contains($"pluginhost_events_total{{op=\"update\",pipeline=\"counted\",table=\"{database}.t1\"}} 2", text);
        Assert.Contains($"pluginhost_events_total{{op=\"delete\",pipeline=\"counted\",table=\"{database}.t1\"}} 1", text);
        Assert.Contains($"pluginhost_events_total{{op=\"insert\",pipeline=\"counted\",table=\"{database}.t2\"}} 1", text);
        Assert.Contains("pluginhost_events_received_total{pipeline=\"counted\"} 7", text);
        Assert.Contains("# TYPE pluginhost_sink_duration_seconds histogram", text);
        Assert.Matches("pluginhost_sink_duration_seconds_bucket\\{call=\"write\",pipeline=\"counted\",le=\"\\+Inf\"\\} [1-9]", text);
        // The file sink acknowledges batch by batch: its batches are timed from hand-over to acknowledgement.
        Assert.Matches("pluginhost_sink_duration_seconds_count\\{call=\"acknowledge\",pipeline=\"counted\"\\} [1-9]", text);
        Assert.Matches("pluginhost_binlog_read_bytes_total\\{pipeline=\"counted\"\\} [1-9]\\d*", text);
        foreach (var name in new[] { "pluginhost_lag_seconds", "pluginhost_queue_depth", "pluginhost_sink_retries_total", "pluginhost_errors_total",
                     "pluginhost_events_dead_lettered_total", "pluginhost_transactions_total", "pluginhost_pipeline_state", "pluginhost_uptime_seconds" })
            Assert.Contains($"# TYPE {name} ", text);
        // The runtime's collections and their pauses (what memory.gen0_budget trades memory for).
        Assert.Matches("pluginhost_gc_collections_total\\{generation=\"0\"\\} [1-9]", text);
        Assert.Contains("pluginhost_gc_collections_total{generation=\"2\"} ", text);
        Assert.Matches("pluginhost_gc_pause_seconds_total [0-9.eE+-]+\\n", text);
        Assert.DoesNotContain("pipeline=\"fine\"", text); // another host's pipelines (same process) are not ours

        // promtool, the Prometheus project's own checker, accepts it (syntax and lint).
        var (code, promtool) = await RunAsync("promtool", "check metrics", text);
        Assert.True(code == 0, $"promtool check metrics: exit {code}\n{promtool}");

        // pikachu's JSON shape.
        var (status, json, _) = await host.GetAsync("metrics.json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(json.GetProperty("system").GetProperty("goroutines").GetInt32() > 0);
        Assert.EndsWith("B", json.GetProperty("system").GetProperty("memory_alloc").GetString());
        Assert.Equal(2, json.GetProperty("monitor").GetProperty("tables_monitored").GetInt32());
        Assert.Equal(7, json.GetProperty("monitor").GetProperty("total_events_processed").GetInt64());
        Assert.StartsWith("mysql-bin.", json.GetProperty("monitor").GetProperty("binlog_position").GetProperty("file").GetString());
        Assert.Equal("running", json.GetProperty("dispatcher").GetProperty("status").GetString());
        Assert.Equal(7, json.GetProperty("dispatcher").GetProperty("webhooks_sent").GetInt64());
        Assert.EndsWith("ms", json.GetProperty("dispatcher").GetProperty("avg_response_time").GetString());
        var task = Assert.Single(json.GetProperty("tasks").EnumerateArray());
        Assert.Equal("counted", task.GetProperty("task_id").GetString());
        Assert.Equal($"{database}.*", task.GetProperty("table_name").GetString());
        Assert.Equal("active", task.GetProperty("status").GetString());
        Assert.Equal(7, task.GetProperty("events_processed").GetInt64());

        // The events/s history is kept for the dashboard.
        var p = await host.WaitForAsync("counted", x => x.GetProperty("events_per_second_history").GetArrayLength() >= 2, "a rate history");
        Assert.All(p.GetProperty("events_per_second_history").EnumerateArray(), v => Assert.True(v.GetDouble() >= 0));
    }

    [Fact]
    public async Task A_sinks_own_dead_letters_and_retries_count_in_pipelines_metrics_and_metrics_json()
    {
        var database = NewDatabase();
        // A real receiver: the row with id 1 is refused for good (400: dead-lettered at once), id 2 fails once (500: retried).
        await using var receiver = await WebhookReceiver.StartAsync();
        var failedOnce = 0;
        receiver.Respond = r => r.Events().Single()["after"]?["id"]?.GetValue<int>() switch
        {
            1 => new Reply(400),
            2 when Interlocked.Exchange(ref failedOnce, 1) == 0 => new Reply(500),
            _ => new Reply(200),
        };
        var name = "whstats_" + Guid.NewGuid().ToString("N")[..6];
        var pipeline = $$"""
              - name: {{name}}
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                sink:
                  type: webhook
                  worker_count: 1
                  max_retries: 3
                  retry_base_delay: 20ms
                  retry_max_delay: 50ms
                  dead_letter: {{name}}-dead.jsonl
                  tasks: [{ table: "*", url: "{{receiver.BaseUrl}}/hook" }]
            """;
        await using var host = await ApiTestHost.StartNewAsync(pipeline);
        await host.WaitForStateAsync(name, "running");
        db.Sql("INSERT INTO t1 VALUES (1, 1); INSERT INTO t1 VALUES (2, 2); INSERT INTO t1 VALUES (3, 3);", database);
        await host.WaitForCheckpointAsync(name, 3);
        Assert.Equal(new[] { 2, 3 }, receiver.Events().Select(e => e.Event["after"]!["id"]!.GetValue<int>()).Order());
        Assert.Single(File.ReadAllLines(Path.Combine(host.Dir, $"{name}-dead.jsonl")));

        var p = await host.PipelineAsync(name);
        Assert.Equal(3, p.GetProperty("events").GetProperty("out").GetInt64());
        Assert.Equal(1, p.GetProperty("events").GetProperty("dead_lettered").GetInt64());
        Assert.Equal(1, p.GetProperty("sink_retries").GetInt64());

        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains($"pluginhost_events_dead_lettered_total{{pipeline=\"{name}\"}} 1\n", metrics);
        Assert.Contains($"pluginhost_sink_retries_total{{pipeline=\"{name}\"}} 1\n", metrics);
        Assert.Contains($"pluginhost_errors_total{{kind=\"sink\",pipeline=\"{name}\"}} 1\n", metrics);
        Assert.Contains($"pluginhost_errors_total{{kind=\"transform\",pipeline=\"{name}\"}} 0\n", metrics); // the sink's, not the transform's

        var (_, json, _) = await host.GetAsync("metrics.json");
        Assert.Equal(2, json.GetProperty("dispatcher").GetProperty("webhooks_failed").GetInt64()); // one retry + one dead letter
    }

    [Fact]
    public async Task Transform_version_and_compiler_diagnostics_are_shown_and_reloads_counted()
    {
        var database = NewDatabase();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "shaped", database, extra: "    transform: shape.csx"));
        var script = Path.Combine(dir, "shape.csx");
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { int unused; e.Extra[\"shaped\"] = 1; return e; }\n");
        await using var host = await ApiTestHost.StartAsync(dir);
        var p = await host.WaitForStateAsync("shaped", "running", seconds: 60);
        var transform = p.GetProperty("transform");
        Assert.Equal("shape.csx", transform.GetProperty("path").GetString());
        var version = transform.GetProperty("version").GetString();
        Assert.False(string.IsNullOrEmpty(version));
        Assert.Contains("warning CS0168", transform.GetProperty("diagnostics").GetString());
        db.Sql("INSERT INTO t1 VALUES (1,1);", database);
        Assert.Contains("\"shaped\":1", (await host.WaitForOutputAsync("shaped", 1))[0]);

        // A version that does not compile: its errors are shown, the running version stays.
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { return nope; }\n");
        p = await host.WaitForAsync("shaped", x => x.GetProperty("transform").GetProperty("diagnostics").GetString()?.Contains("error CS0103") == true,
            "compile errors shown", seconds: 60);
        Assert.Equal(version, p.GetProperty("transform").GetProperty("version").GetString());
        Assert.Equal("running", p.GetProperty("state").GetString());

        // Fixed: a new version goes live.
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"shaped\"] = 2; return e; }\n");
        p = await host.WaitForAsync("shaped", x => x.GetProperty("transform").GetProperty("version").GetString() is { } v && v != version,
            "a new version live", seconds: 60);
        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Matches("pluginhost_transform_reloads_total\\{pipeline=\"shaped\",result=\"failed\"\\} [1-9]", metrics);
        Assert.Matches("pluginhost_transform_reloads_total\\{pipeline=\"shaped\",result=\"ok\"\\} ([2-9]|\\d\\d)", metrics); // first compile + the fix
    }

    [Fact]
    public async Task A_pipeline_waiting_for_a_transform_fix_is_failed_and_the_host_stays_ready()
    {
        var database = NewDatabase();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "broken", database, extra: "    transform: broken.csx"));
        var script = Path.Combine(dir, "broken.csx");
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { return nope; }\n");
        await using var host = await ApiTestHost.StartAsync(dir);
        var p = await host.WaitForStateAsync("broken", "failed", seconds: 60);
        Assert.Contains("waiting for a fix", p.GetProperty("last_error").GetProperty("message").GetString());
        // It needs a person, not time: readiness does not wait for it (it would be 503 until someone fixes the file).
        var (status, probe, _) = await host.GetAsync("health/ready");
        Assert.True(status == HttpStatusCode.OK, probe.ToString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.GetAsync("health")).Status); // /health shows the failed pipeline
        db.Sql("INSERT INTO t1 VALUES (1,1);", database); // waits in the binlog: nothing passes untransformed

        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"fixed\"] = 1; return e; }\n");
        await host.WaitForStateAsync("broken", "running", seconds: 60);
        Assert.Contains("\"fixed\":1", (await host.WaitForOutputAsync("broken", 1))[0]);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/ready")).Status);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint()
    {
        await using var host = await ApiTestHost.StartNewAsync("");
        var (status, doc, _) = await host.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("PluginHost", doc.GetProperty("info").GetProperty("title").GetString());
        var paths = doc.GetProperty("paths");
        foreach (var (path, method) in new[]
                 {
                     ("/pipelines", "get"), ("/pipelines", "post"), ("/pipelines/{name}", "get"), ("/pipelines/{name}", "put"),
                     ("/pipelines/{name}", "delete"), ("/pipelines/{name}/pause", "post"), ("/pipelines/{name}/resume", "post"),
                     ("/pipelines/{name}/restart", "post"), ("/pipelines/{name}/seek", "post"), ("/pipelines/{name}/snapshot", "post"),
                     ("/pipelines/{name}/snapshot", "delete"), ("/reload", "post"), ("/plugins", "get"),
                     ("/health", "get"), ("/health/live", "get"), ("/health/ready", "get"), ("/metrics", "get"), ("/metrics.json", "get"),
                 })
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method} {path} missing");
            var op = paths.GetProperty(path).GetProperty(method);
            Assert.Equal(method != "get", op.TryGetProperty("security", out _));
        }
        Assert.True(paths.GetProperty("/pipelines").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/yaml", out _));
        var snapshot = paths.GetProperty("/pipelines/{name}/snapshot").GetProperty("post");
        Assert.True(snapshot.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(snapshot.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(snapshot.GetProperty("responses").TryGetProperty("400", out _));
        Assert.True(snapshot.GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(paths.GetProperty("/pipelines/{name}/snapshot").GetProperty("delete").GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(doc.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("admin_token", out _));
    }

    [Fact]
    public async Task The_pluginhost_executable_serves_the_api_and_logs_json_with_one_line_per_state_change()
    {
        var database = NewDatabase();
        var port = MariaDbServer.FreePort();
        var dir = ApiTestHost.WriteConfig(null, port, ApiTestHost.Token, ApiTestHost.PipelineYaml(db, "proc", database, password: ""),
            extraTop: "log: { level: info, format: json }");
        var log = Path.Combine(dir, "host.log");
        // Fourteen hours ahead of UTC: a timestamp in local time would show it.
        using var process = HostProcess.Start(log, new Dictionary<string, string> { ["TZ"] = "Pacific/Kiritimati" }, "run", "--config", Path.Combine(dir, "pluginhost.yaml"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var clock = Stopwatch.StartNew();
        string? state = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && state != "running")
        {
            try
            {
                var body = await http.GetStringAsync("pipelines/proc");
                state = JsonDocument.Parse(body).RootElement.GetProperty("state").GetString();
            }
            catch (HttpRequestException) { }
            if (process.HasExited) break;
            await Task.Delay(200);
        }
        Assert.True(state == "running", $"the host did not serve a running pipeline:\n{process.ReadLog()}");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        // (JSON lines escape the arrow: \u2192.)
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !process.ReadLog().Contains("pipeline proc: starting \\u2192 running")) await Task.Delay(100);
        db.Sql("INSERT INTO t1 VALUES (1,1),(2,2),(3,3);", database);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("pipelines/proc/pause", null)).StatusCode);
        using var pause = new HttpRequestMessage(HttpMethod.Post, "pipelines/proc/pause");
        pause.Headers.Authorization = new("Bearer", ApiTestHost.Token);
        var paused = await http.SendAsync(pause);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True(process.Terminate(TimeSpan.FromSeconds(30)), "no graceful exit on SIGTERM");

        var lines = process.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var json = lines.Select(l => (Line: l, Doc: TryJson(l))).ToList();
        Assert.All(json, x => Assert.True(x.Doc != null, $"not a JSON log line: {x.Line}"));
        var messages = json.Select(x => x.Doc!.RootElement.GetProperty("Message").GetString()!).ToList();
        // Timestamps: UTC ISO 8601 with milliseconds and a Z, nothing after it; the clock is UTC's, not the local zone's.
        foreach (var x in json)
        {
            var timestamp = x.Doc!.RootElement.GetProperty("Timestamp").GetString()!;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", timestamp);
            var at = DateTimeOffset.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Math.Abs((at - DateTimeOffset.UtcNow).TotalHours) < 2, $"{timestamp} is not UTC now ({DateTimeOffset.UtcNow:O})");
        }
        Assert.Contains("pipeline proc: starting → running", messages);
        Assert.True(messages.Contains("pipeline proc: running → paused"), string.Join("\n", messages));
        Assert.Contains(messages, m => m.StartsWith("REST API, health, metrics and dashboard on http://127.0.0.1:" + port, StringComparison.Ordinal));
        // Three changed rows, no line about any of them.
        Assert.DoesNotContain(messages, m => m.Contains("\"id\"", StringComparison.Ordinal) || m.Contains("INSERT", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(ApiTestHost.Token, string.Join('\n', lines));
    }

    [Fact]
    public async Task Ready_is_503_while_a_pipeline_is_starting_or_stopping()
    {
        var database = NewDatabase();
        // A receiver that holds each request until released: a graceful stop waits for it (the sink drains).
        using var release = new ManualResetEventSlim();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = _ =>
        {
            release.Wait(TimeSpan.FromSeconds(60)); // hang guard
            return new Reply(200);
        };
        // A server that accepts connections and never answers: a pipeline reading from it stays starting.
        var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var silentPort = ((IPEndPoint)silent.LocalEndpoint).Port;
            var pipelines = $$"""
                  - name: held
                    source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                    filter: { include: ["{{database}}.*"] }
                    sink: { type: webhook, worker_count: 1, tasks: [{ table: "*", url: "{{receiver.BaseUrl}}/hook" }] }
                """;
            await using var host = await ApiTestHost.StartNewAsync(pipelines);
            await host.WaitForStateAsync("held", "running");
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/ready")).Status);

            // Starting: a pipeline that cannot get past the server's greeting.
            var body = $$"""
                name: mute
                source: { host: 127.0.0.1, port: {{silentPort}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none, connect_timeout: 5m }
                sink: { type: file, path: out-mute.jsonl, fsync: false }
                """;
            Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("pipelines", body, "application/yaml")).Status);
            Assert.Equal("starting", (await host.PipelineAsync("mute")).GetProperty("state").GetString());
            var (status, probe, _) = await host.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("DOWN", probe.GetProperty("status").GetString());
            Assert.Contains("mute", probe.GetProperty("reason").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await host.SendAsync(HttpMethod.Delete, "pipelines/mute")).Status);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/ready")).Status);

            // Stopping: pausing "held" waits for the receiver to answer the row in flight.
            db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
            await host.WaitForAsync("held", p => p.GetProperty("in_flight").GetProperty("events").GetInt64() == 1, "the row handed to the sink");
            var pausing = host.PostAsync("pipelines/held/pause");
            var clock = Stopwatch.StartNew();
            JsonElement stopping = default;
            while (clock.Elapsed < TimeSpan.FromSeconds(30)) // hang guard
            {
                (status, stopping, _) = await host.GetAsync("health/ready");
                if (status == HttpStatusCode.ServiceUnavailable) break;
                await Task.Delay(50);
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("held", stopping.GetProperty("reason").GetString());
            Assert.False(pausing.IsCompleted);
            release.Set();
            Assert.Equal(HttpStatusCode.OK, (await pausing).Status);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("health/ready")).Status); // paused is a settled state
            Assert.Single(receiver.Events());
        }
        finally
        {
            release.Set();
            silent.Stop();
        }
    }

    [Fact]
    public async Task Log_level_warn_hides_info_lines_and_debug_shows_debug_lines()
    {
        var database = NewDatabase();
        // warn: the warning about the generated admin token is there, no info line (not even the pipeline's state changes).
        await using (var quiet = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "quiet", database), token: null, extraTop: "log: { level: warn }"))
        {
            await quiet.WaitForStateAsync("quiet", "running");
            db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
            await quiet.WaitForCheckpointAsync("quiet", 1);
            await quiet.WaitForLogAsync(l => l.StartsWith("Warning PluginHost.Api: ", StringComparison.Ordinal) && l.Contains("generated an admin token"), "the token warning");
            await quiet.StopAsync();
            Assert.DoesNotContain(quiet.Logs.Lines, l => l.StartsWith("Information ", StringComparison.Ordinal) || l.StartsWith("Debug ", StringComparison.Ordinal));
        }

        // debug: a line per checkpoint saved (not shown at info, see below).
        await using (var chatty = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "chatty", database), extraTop: "log: { level: debug }"))
        {
            await chatty.WaitForStateAsync("chatty", "running");
            db.Sql("INSERT INTO t1 VALUES (2, 2);", database);
            await chatty.WaitForCheckpointAsync("chatty", 1);
            await chatty.WaitForLogAsync(l => l.StartsWith("Debug PluginHost.Pipeline.chatty: pipeline chatty: checkpoint saved at ", StringComparison.Ordinal), "a debug line");
            Assert.Contains(chatty.Logs.Lines, l => l.StartsWith("Information ", StringComparison.Ordinal));
        }

        // info (the default): info lines, no debug line.
        await using var normal = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "normal", database));
        await normal.WaitForStateAsync("normal", "running");
        db.Sql("INSERT INTO t1 VALUES (3, 3);", database);
        await normal.WaitForCheckpointAsync("normal", 1);
        await normal.WaitForLogAsync(l => l.StartsWith("Information PluginHost.Pipelines: pipeline normal: ", StringComparison.Ordinal), "the state change at info");
        Assert.DoesNotContain(normal.Logs.Lines, l => l.StartsWith("Debug ", StringComparison.Ordinal));
    }

    private static JsonDocument? TryJson(string line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string tool, string args, string stdin)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} not found ({e.Message}): run scripts/setup.sh (Debian package prometheus)", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
            await p.WaitForExitAsync();
            return (p.ExitCode, await stdout + await stderr);
        }
    }
}
