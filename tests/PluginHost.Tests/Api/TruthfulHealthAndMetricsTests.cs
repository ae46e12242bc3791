using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;
using PluginHost.Tests.Webhook;
using Xunit.Abstractions;

namespace PluginHost.Tests.Api;

/// <summary>
/// <c>/health</c>'s <c>last_event_time</c> is the binlog time of the newest change delivered (kept across restarts with
/// the checkpoint; null before the first), and <c>/metrics.json</c> counts what its names say: webhook requests that got
/// a 2xx, one task per webhook <c>task_id</c>, the configured workers.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TruthfulHealthAndMetricsTests(MariaDbServer db, ITestOutputHelper output)
{
    private string NewDatabase()
    {
        var name = "truth_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t1 (id INT PRIMARY KEY, v INT); CREATE TABLE t2 (id INT PRIMARY KEY, v INT);");
        return name;
    }

    private static DateTimeOffset? LastEventTime(JsonElement e) =>
        e.GetProperty("last_event_time") is { ValueKind: JsonValueKind.String } t ? t.GetDateTimeOffset() : null;

    private static async Task<double?> PrometheusLastEventTime(ApiTestHost host, string pipeline)
    {
        var text = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        var prefix = $"pluginhost_last_event_time_seconds{{pipeline=\"{pipeline}\"}} ";
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Last_event_time_is_the_newest_delivered_change_null_before_the_first_and_kept_across_a_restart()
    {
        var database = NewDatabase();
        var name = "lastev_" + Guid.NewGuid().ToString("N")[..6];
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token, ApiTestHost.PipelineYaml(db, name, database));
        var host = await ApiTestHost.StartAsync(dir);
        DateTimeOffset committed;
        try
        {
            await host.WaitForStateAsync(name, "running");
            await Task.Delay(2500); // heartbeats and the binlog's own events (format description, rotate) arrive meanwhile
            var (_, health, _) = await host.GetAsync("health");
            output.WriteLine(health.ToString());
            Assert.Null(LastEventTime(health)); // no change delivered yet, ever
            Assert.Null(LastEventTime(health.GetProperty("pipelines").GetProperty(name)));
            Assert.Null(await PrometheusLastEventTime(host, name));

            db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
            await Task.Delay(1100); // the second change is in a later second than the first
            db.Sql("UPDATE t1 SET v = 2 WHERE id = 1;", database);
            await host.WaitForCheckpointAsync(name, 2);
            var lines = await host.WaitForOutputAsync(name, 2);
            committed = JsonDocument.Parse(lines[^1]).RootElement.GetProperty("ts").GetDateTimeOffset();
            (_, health, _) = await host.GetAsync("health");
            Assert.Equal(committed, LastEventTime(health.GetProperty("pipelines").GetProperty(name)));
            Assert.Equal(committed, LastEventTime(health));
            Assert.Equal(committed.ToUnixTimeSeconds(), await PrometheusLastEventTime(host, name));
            var checkpoint = await File.ReadAllTextAsync(Path.Combine(dir, "state", $"{name}.checkpoint.json"));
            Assert.Contains("\"last_event_time\":", checkpoint);
        }
        finally
        {
            await host.DisposeAsync();
        }

        // A restart seconds later: the server's binlog events seen while reconnecting do not move it.
        await Task.Delay(1500);
        host = await ApiTestHost.StartAsync(dir);
        try
        {
            await host.WaitForStateAsync(name, "running");
            await Task.Delay(2500);
            var (_, health, _) = await host.GetAsync("health");
            output.WriteLine(health.ToString());
            Assert.Equal(committed, LastEventTime(health.GetProperty("pipelines").GetProperty(name)));
            Assert.Equal(committed.ToUnixTimeSeconds(), await PrometheusLastEventTime(host, name));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Metrics_json_counts_2xx_requests_only_one_task_per_task_id_and_the_configured_workers()
    {
        var database = NewDatabase();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = r => r.Path.StartsWith("/refuse", StringComparison.Ordinal) ? new Reply(400) : new Reply(200); // 400: dead-lettered at once
        var name = "tasks_" + Guid.NewGuid().ToString("N")[..6];
        var pipeline = $$"""
              - name: {{name}}
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                sink:
                  type: webhook
                  worker_count: 7
                  max_retries: 2
                  retry_base_delay: 20ms
                  retry_max_delay: 50ms
                  dead_letter: {{name}}-dead.jsonl
                  tasks:
                    - { id: users_hook, table: "{{database}}.t1", events: [insert], url: "{{receiver.BaseUrl}}/users" }
                    - { id: refused_hook, table: "{{database}}.t2", url: "{{receiver.BaseUrl}}/refuse" }
                    - { id: quiet_hook, table: "{{database}}.nothing", url: "{{receiver.BaseUrl}}/quiet" }
            """;
        await using var host = await ApiTestHost.StartNewAsync(pipeline);
        await host.WaitForStateAsync(name, "running");
        // 8 inserts answered 2xx; 2 updates and 1 delete no task takes (users_hook wants inserts only); 3 rows refused.
        db.Sql("""
            INSERT INTO t1 VALUES (1,1),(2,2),(3,3),(4,4),(5,5),(6,6),(7,7),(8,8);
            UPDATE t1 SET v = 0 WHERE id IN (1, 2);
            DELETE FROM t1 WHERE id = 3;
            INSERT INTO t2 VALUES (1,1),(2,2),(3,3);
            """, database);
        await host.WaitForCheckpointAsync(name, 14);
        Assert.Equal(8, receiver.Events().Count);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(host.Dir, $"{name}-dead.jsonl")).Length);

        var (status, json, _) = await host.GetAsync("metrics.json");
        Assert.Equal(HttpStatusCode.OK, status);
        output.WriteLine(json.ToString());
        var dispatcher = json.GetProperty("dispatcher");
        Assert.Equal(8, dispatcher.GetProperty("webhooks_sent").GetInt64());
        Assert.Equal(3, dispatcher.GetProperty("webhooks_failed").GetInt64()); // one 400 each, then the dead-letter file
        Assert.Equal(Math.Round(100.0 * 8 / 11, 2), dispatcher.GetProperty("success_rate").GetDouble());
        Assert.Equal(7, dispatcher.GetProperty("workers_total").GetInt32());
        Assert.Equal(7, dispatcher.GetProperty("workers_active").GetInt32());
        Assert.Equal(14, json.GetProperty("monitor").GetProperty("total_events_processed").GetInt64()); // every event handed over

        var tasks = json.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(["users_hook", "refused_hook", "quiet_hook"], tasks.Select(t => t.GetProperty("task_id").GetString()));
        Assert.All(tasks, t => Assert.Equal(name, t.GetProperty("pipeline").GetString()));
        Assert.All(tasks, t => Assert.Equal("active", t.GetProperty("status").GetString()));
        var users = tasks[0];
        Assert.Equal($"{database}.t1", users.GetProperty("table_name").GetString());
        Assert.Equal(8, users.GetProperty("events_processed").GetInt64());
        Assert.Equal(0, users.GetProperty("events_dead_lettered").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, users.GetProperty("last_processed").ValueKind);
        var refused = tasks[1];
        Assert.Equal(0, refused.GetProperty("events_processed").GetInt64());
        Assert.Equal(3, refused.GetProperty("events_dead_lettered").GetInt64());
        Assert.Equal(3, refused.GetProperty("requests_failed").GetInt64());
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("last_processed").ValueKind);
        Assert.Equal(0, tasks[2].GetProperty("events_processed").GetInt64());
        Assert.Equal($"{database}.nothing", tasks[2].GetProperty("table_name").GetString());

        // Paused (its sink is gone): the tasks stay listed with their counts, and no worker is active.
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync($"pipelines/{name}/pause")).Status);
        (_, json, _) = await host.GetAsync("metrics.json");
        Assert.Equal(["users_hook", "refused_hook", "quiet_hook"], json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task_id").GetString()));
        Assert.All(json.GetProperty("tasks").EnumerateArray(), t => Assert.Equal("paused", t.GetProperty("status").GetString()));
        Assert.Equal(8, json.GetProperty("dispatcher").GetProperty("webhooks_sent").GetInt64());
        Assert.Equal(7, json.GetProperty("dispatcher").GetProperty("workers_total").GetInt32());
        Assert.Equal(0, json.GetProperty("dispatcher").GetProperty("workers_active").GetInt32());
    }
}
