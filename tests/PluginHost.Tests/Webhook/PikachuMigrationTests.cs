using System.Net.Http;
using System.Text.Json.Nodes;
using PluginHost.Config;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// Migration from pikachu: its own <c>config.yaml</c> + <c>tasks.yaml</c> (the examples of its README, read from
/// <c>../shared/seeds/pikachu-README.txt</c>) run as one webhook pipeline; unsupported keys are reported.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PikachuMigrationTests(MariaDbServer db, ITestOutputHelper output)
{
    /// <summary>The config.yaml and tasks.yaml examples of pikachu's README, verbatim.</summary>
    internal static (string Config, string Tasks) SeedExamples()
    {
        var path = Path.GetFullPath(Path.Combine(RepoPaths.RepoRoot, "..", "shared", "seeds", "pikachu-README.txt"));
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing (pikachu's README, beside the repository)");
        var lines = File.ReadAllLines(path);
        int Find(Func<string, bool> p, int from = 0) => Array.FindIndex(lines, from, l => p(l));
        var configStart = Find(l => l.StartsWith("database:", StringComparison.Ordinal)) - 1; // keep the comment line above
        var configEnd = Find(l => l.StartsWith("callback_host:", StringComparison.Ordinal), configStart);
        var tasksStart = Find(l => l == "tasks:", configEnd);
        var tasksEnd = Find(l => l.Contains("external-api.company.com/v1/sync", StringComparison.Ordinal), tasksStart);
        Assert.True(configStart >= 0 && configEnd > configStart && tasksStart > configEnd && tasksEnd > tasksStart, "the README's examples were not found");
        return (string.Join('\n', lines[configStart..(configEnd + 1)]) + "\n", string.Join('\n', lines[tasksStart..(tasksEnd + 1)]) + "\n");
    }

    private static string WriteSeed(string dir, MariaDbServer db, string callbackHost, int serverPort)
    {
        var (config, tasks) = SeedExamples();
        // Adapted only in host and port (and the throwaway server's empty root password).
        config = config.Replace("host: \"localhost\"", $"host: \"{db.Host}\"").Replace("port: 3306", $"port: {db.Port}")
            .Replace("password: \"password\"", "password: \"\"").Replace("port: 8080", $"port: {serverPort}")
            .Replace("callback_host: \"http://localhost:3000\"", $"callback_host: \"{callbackHost}\"");
        File.WriteAllText(Path.Combine(dir, "config.yaml"), config);
        File.WriteAllText(Path.Combine(dir, "tasks.yaml"), tasks);
        return Path.Combine(dir, "config.yaml");
    }

    [Fact]
    public void The_seed_config_translates_to_one_webhook_pipeline_and_reports_what_it_does_not_carry_over()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-pikachu-").FullName;
        var path = WriteSeed(dir, db, "http://127.0.0.1:3000", 18080);
        var config = ConfigLoader.Load(path);
        foreach (var w in config.Warnings) output.WriteLine(w);
        var p = Assert.Single(config.Pipelines);
        Assert.Equal("pikachu", p.Name);
        Assert.Equal("webhook", p.SinkType);
        Assert.Equal((uint)100, p.Options.Source.ServerId);
        Assert.Equal(db.Port, p.Options.Source.Port);
        Assert.Equal(["test_db.users", "test_db.orders", "test_db.order", "test_db.2024_user-activity_log", "test_db.sync_data"], p.Options.Filter.Include);
        Assert.Equal("127.0.0.1:18080", config.Options.Server.Listen);
        Assert.True(config.Options.Server.Enabled);
        Assert.Equal("info", config.Options.Log.Level);
        var sink = JsonNode.Parse(p.SinkSettings.GetRawText())!;
        Assert.Equal("pikachu", sink["format"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:3000", sink["callback_host"]!.GetValue<string>());
        Assert.Equal("20", sink["worker_count"]!.GetValue<string>());
        Assert.Equal("30000ms", sink["timeout"]!.GetValue<string>());
        Assert.Equal("5000ms", sink["retry_base_delay"]!.GetValue<string>());
        Assert.Equal("100", sink["max_connections"]!.GetValue<string>());
        var tasks = sink["tasks"]!.AsArray();
        Assert.Equal(5, tasks.Count);
        Assert.Equal("keyword_table_monitor", tasks[2]!["id"]!.GetValue<string>());
        Assert.Equal("test_db.order", tasks[2]!["table"]!.GetValue<string>());
        Assert.Equal("/webhook/order", tasks[2]!["url"]!.GetValue<string>());
        Assert.Equal("https://api.example.com/webhook/order", tasks[1]!["url"]!.GetValue<string>());
        // Reported, not silently dropped: queue sizes, queue timeout; plus what changes for the better.
        Assert.Contains(config.Warnings, w => w.Contains("dispatcher.queue_size"));
        Assert.Contains(config.Warnings, w => w.Contains("monitor.event_queue_size"));
        Assert.Contains(config.Warnings, w => w.Contains("monitor.event_queue_timeout"));
        Assert.Contains(config.Warnings, w => w.Contains("PLUGINHOST__SERVER__LISTEN=0.0.0.0:18080"));
        Assert.Contains(config.Warnings, w => w.StartsWith("warning: server:") && w.Contains("/metrics.json") && w.Contains("Prometheus"));
        Assert.Contains(config.Warnings, w => w.StartsWith("note:") && w.Contains("checkpoint"));
        Assert.DoesNotContain(config.Warnings, w => w.Contains("database.charset")); // utf8mb4 is what we do anyway
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Unknown_and_unsupported_keys_are_warnings_bad_values_are_errors_named_in_pikachus_terms()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-pikachu-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.yaml"), """
            database: { host: 127.0.0.1, port: 3306, user: root, database: shop, server_id: 5, charset: latin1, read_timeout: 1m30s, shiny: 1 }
            log: { level: fatal, directory: /var/log/pikachu, max_size: 100 }
            server: { enabled: false, path: /healthz }
            dispatcher: { worker_count: 4, timeout: 1m30s, retry_base_delay: 500ms, idle_conn_timeout: 90s, shutdown_timeout: 10s }
            monitor: { flush_interval: 1s }
            callback_host: http://hooks.local
            tasks:
              - { task_id: a, name: inline, table_name: users, events: [insert], callback_url: /a, color: blue }
            extra_top: 1
            """);
        var config = ConfigLoader.Load(Path.Combine(dir, "config.yaml"));
        foreach (var w in config.Warnings) output.WriteLine(w);
        foreach (var key in new[] { "database.charset", "database.shiny", "log.level", "log.directory", "log.max_size", "server.path", "dispatcher.idle_conn_timeout",
                     "dispatcher.shutdown_timeout", "monitor.flush_interval", "tasks[0].color", "extra_top" })
            Assert.Contains(config.Warnings, w => w.Contains(key + ":"));
        var p = config.Pipelines[0];
        Assert.Equal(TimeSpan.FromSeconds(45), p.Options.Source.Heartbeat); // read_timeout / 2, as pikachu
        Assert.Equal("error", config.Options.Log.Level);
        Assert.False(config.Options.Server.Enabled);
        var sink = JsonNode.Parse(p.SinkSettings.GetRawText())!;
        Assert.Equal("90000ms", sink["timeout"]!.GetValue<string>());
        Assert.Equal("4", sink["worker_count"]!.GetValue<string>());
        Assert.Equal("shop.users", sink["tasks"]![0]!["table"]!.GetValue<string>()); // inline tasks: no tasks.yaml

        // tasks.yaml wins over inline tasks (and says so); errors use pikachu's keys.
        File.WriteAllText(Path.Combine(dir, "tasks.yaml"), "tasks:\n  - { task_id: b, table_name: orders, events: [update], callback_url: /b }\n");
        config = ConfigLoader.Load(Path.Combine(dir, "config.yaml"));
        Assert.Contains(config.Warnings, w => w.Contains("tasks: ignored"));
        Assert.Equal("shop.orders", JsonNode.Parse(config.Pipelines[0].SinkSettings.GetRawText())!["tasks"]![0]!["table"]!.GetValue<string>());

        File.WriteAllText(Path.Combine(dir, "config.yaml"), """
            database: { port: 99999, user: root, database: shop, server_id: 5 }
            dispatcher: { timeout: 30 }
            """);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(dir, "config.yaml")));
        output.WriteLine(e.Message);
        Assert.Contains(e.Errors, x => x.Key == "dispatcher.timeout" && x.Message.Contains("nanoseconds"));
        File.WriteAllText(Path.Combine(dir, "config.yaml"), "database: { port: 99999, user: root, database: shop, server_id: 5 }\n");
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(dir, "config.yaml")));
        output.WriteLine(e.Message);
        Assert.Contains(e.Errors, x => x.Key == "database.host");
        Assert.Contains(e.Errors, x => x.Key == "database.port");
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("300ms", 300)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("2us", 0.002)]
    [InlineData("0", 0)]
    public void Go_durations(string text, double ms)
    {
        Assert.True(PikachuConfig.TryParseGoDuration(text, out var d));
        Assert.Equal(ms, d.TotalMilliseconds, 6);
    }

    /// <summary>
    /// <c>pluginhost run --config config.yaml</c> (the real host process) on pikachu's example configuration: changes of
    /// the tables its tasks name reach the receiver in pikachu's payload format, and its health endpoint answers.
    /// </summary>
    [Fact]
    public async Task Pikachus_example_config_runs_end_to_end_with_pluginhost_run()
    {
        db.Sql("""
            DROP DATABASE IF EXISTS test_db; CREATE DATABASE test_db;
            CREATE TABLE test_db.users (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(60));
            CREATE TABLE test_db.orders (id INT PRIMARY KEY, total DECIMAL(10,2));
            CREATE TABLE test_db.`order` (id INT PRIMARY KEY, status VARCHAR(20));
            CREATE TABLE test_db.`2024_user-activity_log` (id INT PRIMARY KEY, action VARCHAR(20));
            CREATE TABLE test_db.sync_data (id INT PRIMARY KEY, v INT);
            """);
        await using var receiver = await WebhookReceiver.StartAsync();
        var dir = TestTemp.CreateSubdirectory("pluginhost-pikachu-run-").FullName;
        var serverPort = MariaDbServer.FreePort();
        var config = WriteSeed(dir, db, receiver.BaseUrl, serverPort);
        var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", config);
        try
        {
            await Wait.UntilAsync(() => host.HasExited || host.ReadLog().Contains("streaming binlog"), TimeSpan.FromSeconds(30), () => host.ReadLog());
            Assert.False(host.HasExited, host.ReadLog());
            db.Sql("""
                INSERT INTO users VALUES (1, 'John Doe', 'john@example.com'), (2, 'Ann', 'ann@example.com');
                UPDATE users SET email = 'jd@example.com' WHERE id = 1;
                DELETE FROM users WHERE id = 2;
                INSERT INTO `order` VALUES (7, 'new');
                UPDATE `order` SET status = 'paid' WHERE id = 7;
                INSERT INTO `2024_user-activity_log` VALUES (1, 'login');
                UPDATE `2024_user-activity_log` SET action = 'logout' WHERE id = 1;
                """, "test_db");
            await Wait.UntilAsync(() => receiver.Events().Count >= 7, TimeSpan.FromSeconds(20), () => $"{receiver.Events().Count} events; log:\n{host.ReadLog()}");
            using (var http = new HttpClient())
            {
                var health = await http.GetAsync($"http://127.0.0.1:{serverPort}/health");
                output.WriteLine($"/health: {(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}");
                Assert.True(health.IsSuccessStatusCode);
            }
            Assert.True(host.Terminate(TimeSpan.FromSeconds(20)), "the host did not stop on SIGTERM");
            var log = host.ReadLog();
            output.WriteLine(log);
            Assert.Contains("warning: dispatcher.queue_size", log);
            Assert.True(File.Exists(Path.Combine(dir, "state", "pikachu.checkpoint.json")), "no checkpoint");

            var events = receiver.Events();
            Assert.Equal(7, events.Count);
            var byPath = events.GroupBy(e => e.Request.Path).ToDictionary(g => g.Key, g => g.Select(x => x.Event).ToList());
            Assert.Equal(["/webhook/activity", "/webhook/order", "/webhook/user"], byPath.Keys.Order());
            // Per row in commit order (rows on different lanes may interleave).
            string[] Row(long id) => byPath["/webhook/user"].Where(e => e["primary_id"]!.GetValue<long>() == id).Select(e => e["event"]!.GetValue<string>()).ToArray();
            Assert.Equal(["insert", "update"], Row(1));
            Assert.Equal(["insert", "delete"], Row(2));
            Assert.Equal(["insert", "update"], byPath["/webhook/order"].Select(e => e["event"]!.GetValue<string>()));
            Assert.Equal(["insert"], byPath["/webhook/activity"].Select(e => e["event"]!.GetValue<string>()));
            var insert = byPath["/webhook/user"].First(e => e["primary_id"]!.GetValue<long>() == 1);
            Assert.Equal(["event", "table", "primary_id", "data", "timestamp"], insert.Select(p => p.Key));
            Assert.Equal("users", insert["table"]!.GetValue<string>());
            Assert.Equal(1, insert["primary_id"]!.GetValue<long>());
            Assert.Equal("""{"id":1,"name":"John Doe","email":"john@example.com"}""", insert["data"]!.ToJsonString());
            var update = byPath["/webhook/user"].Single(e => e["event"]!.GetValue<string>() == "update");
            Assert.Equal("john@example.com", update["old_data"]!["email"]!.GetValue<string>());
            Assert.Equal("jd@example.com", update["new_data"]!["email"]!.GetValue<string>());
            Assert.Equal(2, byPath["/webhook/user"].Single(e => e["event"]!.GetValue<string>() == "delete")["data"]!["id"]!.GetValue<long>());
            Assert.Equal("order", byPath["/webhook/order"][0]["table"]!.GetValue<string>());
            Assert.Equal("2024_user-activity_log", byPath["/webhook/activity"][0]["table"]!.GetValue<string>());
        }
        finally
        {
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
