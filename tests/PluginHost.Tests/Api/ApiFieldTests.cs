using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Tests.Support;
using PluginHost.Tests.Webhook;

namespace PluginHost.Tests.Api;

/// <summary>
/// Fields of <c>GET /pipelines</c>, <c>GET /plugins</c> and <c>/metrics</c> that only show something in particular
/// situations — a sink from a real plugin folder, a lost replication connection, a pipeline behind the head, a
/// transform that drops and fails — each brought about for real on MariaDB and checked by value.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiFieldTests(MariaDbServer db)
{
    private string NewDatabase()
    {
        var name = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t1 (id INT PRIMARY KEY, v INT);");
        return name;
    }

    private static string PipelineBody(MariaDbServer db, string name, string database, string user = "root", string password = "", string start = "") => $$"""
        name: {{name}}
        source: { host: 127.0.0.1, port: {{db.Port}}, user: {{user}}, password: "{{password}}", server_id: {{ApiTestHost.NextServerId()}}, ssl: none{{start}} }
        filter: { include: ["{{database}}.*"] }
        sink: { type: file, path: out-{{name}}.jsonl, fsync: false }
        """;

    private static async Task<string> MetricsAsync(ApiTestHost host) => await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();

    /// <summary>The value of one series of the exposition (fails when it is missing).</summary>
    private static double Series(string metrics, string series)
    {
        var m = Regex.Match(metrics, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no series {series} in\n{metrics}");
        return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_sink_from_a_plugin_folder_shows_its_plugin_and_version_in_pipelines_and_plugins()
    {
        var database = NewDatabase();
        await using var receiver = await WebhookReceiver.StartAsync();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token, $$"""
              - name: plugged
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                sink: { type: webhook, tasks: [{ table: "*", url: "{{receiver.BaseUrl}}/hook" }] }
            """);
        // The webhook plugin as the build lays it out (artifacts/plugins/Webhook), in this host's plugins_dir.
        var built = Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins", "Webhook");
        var folder = Path.Combine(dir, "plugins", "Webhook");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(built)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("plugins_dir: no-plugins", "plugins_dir: plugins"));
        var assemblyVersion = AssemblyName.GetAssemblyName(Path.Combine(built, "PluginHost.Plugins.Webhook.dll")).Version!.ToString(3);

        await using var host = await ApiTestHost.StartAsync(dir, testWebhook: false);
        await host.WaitForStateAsync("plugged", "running");
        db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
        await host.WaitForCheckpointAsync("plugged", 1); // flushed: the receiver has it
        Assert.Single(receiver.Events());

        var (status, plugins, _) = await host.GetAsync("plugins");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.EndsWith("plugins", plugins.GetProperty("directory").GetString());
        var plugin = Assert.Single(plugins.GetProperty("plugins").EnumerateArray());
        Assert.Equal("Webhook", plugin.GetProperty("name").GetString());
        Assert.Equal("loaded", plugin.GetProperty("state").GetString());
        var version = plugin.GetProperty("version").GetString()!;
        Assert.StartsWith(assemblyVersion, version);
        Assert.Equal(["webhook"], plugin.GetProperty("sink_types").EnumerateArray().Select(t => t.GetString()!));
        Assert.Equal(JsonValueKind.Null, plugin.GetProperty("error").ValueKind);
        var types = plugins.GetProperty("sink_types").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!, t => t.GetProperty("origin").GetString());
        Assert.Equal("built-in", types["file"]);
        Assert.Contains("Webhook", types["webhook"]);
        Assert.DoesNotContain("(test)", types["webhook"]);

        var sink = (await host.PipelineAsync("plugged")).GetProperty("sink");
        Assert.Equal("webhook", sink.GetProperty("type").GetString());
        Assert.Equal(types["webhook"], sink.GetProperty("origin").GetString());
        Assert.Equal("Webhook", sink.GetProperty("plugin").GetString());
        Assert.Equal(version, sink.GetProperty("plugin_version").GetString());
    }

    [Fact]
    public async Task A_killed_replication_connection_shows_reconnecting_then_running_again()
    {
        var database = NewDatabase();
        var user = "api_rc_" + Guid.NewGuid().ToString("N")[..6];
        db.Sql($"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'rc-pass-1'; GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO '{user}'@'127.0.0.1';");
        await using var host = await ApiTestHost.StartNewAsync("");
        // Five seconds between losing the connection and the next attempt: long enough to see the state by polling.
        host.ClientTuning.Adjust = o => o with { HeartbeatInterval = TimeSpan.FromSeconds(1), ReconnectDelay = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("pipelines", PipelineBody(db, "rc", database, user, "rc-pass-1"), "application/yaml")).Status);
        await host.WaitForStateAsync("rc", "running");
        db.Sql("INSERT INTO t1 VALUES (1, 1);", database);
        await host.WaitForOutAsync("rc", 1);

        var threads = db.Sql($"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{user}';")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(threads);
        db.Sql(string.Join(' ', threads.Select(id => $"KILL {id};")));

        var lost = await host.WaitForStateAsync("rc", "reconnecting");
        Assert.StartsWith("source: ", lost.GetProperty("last_error").GetProperty("message").GetString());
        var (_, health, _) = await host.GetAsync("health");
        Assert.Equal("reconnecting", health.GetProperty("pipelines").GetProperty("rc").GetProperty("state").GetString());
        Assert.Equal(1, Series(await MetricsAsync(host), "pluginhost_pipeline_state{pipeline=\"rc\",state=\"reconnecting\"}"));

        await host.WaitForStateAsync("rc", "running", seconds: 60);
        db.Sql("INSERT INTO t1 VALUES (2, 2);", database);
        var back = await host.WaitForOutAsync("rc", 2);
        Assert.True(back.GetProperty("reconnects").GetInt32() >= 1, back.ToString());
        Assert.True(Series(await MetricsAsync(host), "pluginhost_reconnects_total{pipeline=\"rc\"}") >= 1);
        Assert.Equal(2, host.Output("rc").Length); // nothing lost, nothing repeated
    }

    [Fact]
    public async Task A_pipeline_started_behind_the_head_shows_its_lag()
    {
        var database = NewDatabase();
        var head = db.Sql("SHOW MASTER STATUS;").Split('\t');
        db.Sql("INSERT INTO t1 VALUES (1, 1); INSERT INTO t1 VALUES (2, 2);", database);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the rows are seconds old when the pipeline reads them (binlog time has whole seconds)
        await using var host = await ApiTestHost.StartNewAsync("");
        // No heartbeat for a minute: an idle heartbeat is what resets the lag to 0 once caught up.
        host.ClientTuning.Adjust = o => o with { HeartbeatInterval = TimeSpan.FromSeconds(60) };
        var body = PipelineBody(db, "behind", database, start: $", start: {{ file: {head[0]}, pos: {head[1]} }}");
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("pipelines", body, "application/yaml")).Status);
        var p = await host.WaitForOutAsync("behind", 2);
        Assert.True(p.GetProperty("lag_seconds").GetDouble() >= 2, p.ToString());
        Assert.True(Series(await MetricsAsync(host), "pluginhost_lag_seconds{pipeline=\"behind\"}") >= 2);
        var (_, json, _) = await host.GetAsync("metrics.json");
        Assert.True(json.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("task_id").GetString() == "behind").GetProperty("lag_seconds").GetDouble() >= 2);
    }

    [Fact]
    public async Task Dropped_and_dead_lettered_events_and_the_queue_depth_are_counted_in_json_and_metrics()
    {
        var database = NewDatabase();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "shaped", database, extra: "    transform: shape.csx\n    on_error: dead_letter\n    dead_letter: shaped-dead.jsonl"));
        File.WriteAllText(Path.Combine(dir, "shape.csx"), """
            ChangeEvent? Transform(ChangeEvent e)
            {
                var v = e.After?.Get<long>("v") ?? 1;
                if (v == 0) return null;                                   // dropped
                if (v == 13) throw new InvalidOperationException("unlucky"); // dead-lettered
                return e;
            }
            """);
        await using var host = await ApiTestHost.StartAsync(dir);
        await host.WaitForStateAsync("shaped", "running", seconds: 120);
        db.Sql("INSERT INTO t1 VALUES (1, 0), (2, 13), (3, 5), (4, 0);", database);
        var p = await host.WaitForAsync("shaped", x => x.GetProperty("events").GetProperty("dropped").GetInt64() + x.GetProperty("events").GetProperty("dead_lettered").GetInt64() >= 3,
            "the transform's drops and failures counted");
        p = await host.WaitForCheckpointAsync("shaped", 1);
        var events = p.GetProperty("events");
        Assert.Equal(4, events.GetProperty("in").GetInt64());
        Assert.Equal(1, events.GetProperty("out").GetInt64());
        Assert.Equal(2, events.GetProperty("dropped").GetInt64());
        Assert.Equal(1, events.GetProperty("dead_lettered").GetInt64());
        Assert.Single(File.ReadAllLines(Path.Combine(dir, "shaped-dead.jsonl")));
        Assert.Single(host.Output("shaped"));

        var metrics = await MetricsAsync(host);
        Assert.Equal(2, Series(metrics, "pluginhost_events_dropped_total{pipeline=\"shaped\"}"));
        Assert.Equal(1, Series(metrics, "pluginhost_events_dead_lettered_total{pipeline=\"shaped\"}"));
        Assert.Equal(1, Series(metrics, "pluginhost_errors_total{kind=\"transform\",pipeline=\"shaped\"}"));
        Assert.Equal(4, Series(metrics, "pluginhost_events_received_total{pipeline=\"shaped\"}"));
        // Idle now: nothing is queued between reader and sink, and the gauge says so.
        Assert.Equal(0, Series(metrics, "pluginhost_queue_depth{pipeline=\"shaped\"}"));
        Assert.Equal(p.GetProperty("queue_depth").GetInt32(), (int)Series(metrics, "pluginhost_queue_depth{pipeline=\"shaped\"}"));
    }
}
