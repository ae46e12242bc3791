using System.Text.Json.Nodes;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// <c>pluginhost deadletter replay FILE</c> as the issue writes it — no <c>--config</c> — run as the real host process
/// on dead letters a real pipeline wrote (real MariaDB, real receiver that refuses, then accepts): the configuration
/// is found in the current folder (<c>pluginhost.yaml</c>, or pikachu's <c>config.yaml</c>) or above the file, and
/// without one the command says what is missing and sends nothing.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeadLetterReplayProcessTests(MariaDbServer db, ITestOutputHelper output)
{
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandGuard = TimeSpan.FromSeconds(90);

    private async Task<(int Code, string Log)> RunAsync(string workingDirectory, params string[] args)
    {
        var log = Path.Combine(TestTemp.CreateSubdirectory("pluginhost-replay-log-").FullName, "host.log");
        using var host = HostProcess.StartIn(workingDirectory, log, args);
        Assert.True(host.WaitForExit(CommandGuard), $"pluginhost {string.Join(' ', args)} did not finish: {host.ReadLog()}");
        var text = host.ReadLog();
        output.WriteLine($"$ (cd {workingDirectory} && pluginhost {string.Join(' ', args)}) → {host.ExitCode}\n{text}");
        return (host.ExitCode, text);
    }

    private static void AssertBuiltPlugin() =>
        Assert.True(File.Exists(Path.Combine(PluginDirectories.BuiltPlugins, "Webhook", "PluginHost.Plugins.Webhook.dll")),
            $"the webhook plugin is not built in {PluginDirectories.BuiltPlugins}");

    [Fact]
    public async Task Replay_without_config_uses_the_current_folders_pluginhost_yaml_or_the_one_above_the_file_and_else_says_what_is_missing()
    {
        AssertBuiltPlugin();
        db.Sql("DROP DATABASE IF EXISTS wh_replay; CREATE DATABASE wh_replay; CREATE TABLE wh_replay.users (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var failing = true;
        receiver.Respond = _ => Volatile.Read(ref failing) ? new Reply(500) : new Reply();
        var dir = TestTemp.CreateSubdirectory("pluginhost-webhook-replay-").FullName;
        var sink = new JsonObject
        {
            ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["max_retries"] = 1, ["retry_base_delay"] = "10ms",
            ["dead_letter"] = "dlq/users.jsonl",
            ["tasks"] = new JsonArray(new JsonObject { ["id"] = "users", ["table"] = "users", ["url"] = "/users" }),
        };
        var yaml = $"plugins_dir: {PluginDirectories.BuiltPlugins}\n" + WebhookPipeline.ConfigYaml(db, "replay", "wh_replay", sink, WebhookPipeline.StartHere(db));
        var configPath = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        await using var p = WebhookPipeline.Start(ConfigLoader.Parse(yaml, configPath, new Dictionary<string, string>()), dir, output);
        await p.RunningAsync();
        db.Sql("INSERT INTO users SELECT seq, 0 FROM seq_1_to_10; UPDATE users SET v = 1 WHERE id <= 3;", "wh_replay");
        await p.CaughtUpAsync(db, CatchUp);
        var dlq = Path.Combine(dir, "dlq", "users.jsonl");
        Assert.Equal(13, File.ReadAllLines(dlq).Length);
        Assert.Empty(receiver.Events());

        // 1. In the configuration's folder, the file as the issue writes it: ./pluginhost.yaml is used.
        Volatile.Write(ref failing, false);
        var (code, log) = await RunAsync(dir, "deadletter", "replay", "dlq/users.jsonl");
        Assert.Equal(0, code);
        Assert.Contains($"using the configuration {configPath}", log);
        Assert.Contains("13 delivered, 0 dead-lettered again", log);
        Assert.Equal(13, receiver.Events().Count);

        // 2. From an unrelated folder, by the file's full path: the configuration above the file that writes it.
        Volatile.Write(ref failing, true);
        db.Sql("UPDATE users SET v = 2 WHERE id > 7;", "wh_replay");
        await p.CaughtUpAsync(db, CatchUp);
        Assert.Equal(3, File.ReadAllLines(dlq).Length);
        Volatile.Write(ref failing, false);
        var elsewhere = TestTemp.CreateSubdirectory("pluginhost-replay-elsewhere-").FullName;
        (code, log) = await RunAsync(elsewhere, "deadletter", "replay", dlq);
        Assert.Equal(0, code);
        Assert.Contains($"using the configuration {configPath}", log);
        Assert.Contains("3 delivered, 0 dead-lettered again", log);
        var expected = Enumerable.Range(1, 10).ToDictionary(i => (long)i, i => i switch
        {
            <= 3 => new List<string> { "i0", "u1" },
            > 7 => ["i0", "u2"],
            _ => ["i0"],
        });
        AssertSameHistories(expected, ByRow(receiver.Events().Select(e => e.Event)));

        // 3. No configuration in the current folder nor above the file: a clear error, and the file stays untouched.
        var lonely = TestTemp.CreateSubdirectory("pluginhost-replay-lonely-").FullName;
        var copy = Path.Combine(lonely, "users.jsonl");
        File.Copy(Directory.GetFiles(Path.Combine(dir, "dlq"), "users.jsonl.replayed-*")[0], copy);
        var requests = receiver.Requests;
        (code, log) = await RunAsync(lonely, "deadletter", "replay", "users.jsonl");
        Assert.Equal(2, code);
        Assert.Contains("no configuration for users.jsonl: pass --config FILE", log);
        Assert.Contains("./pluginhost.yaml", log);
        Assert.Contains("./config.yaml", log);
        Assert.Contains("signing secret", log);
        Assert.True(File.Exists(copy));
        Assert.Equal(requests, receiver.Requests);

        // 4. An unrelated ./pluginhost.yaml (its pipeline does not write this file) is never used for it.
        await File.WriteAllTextAsync(Path.Combine(lonely, "pluginhost.yaml"), yaml.Replace("dlq/users.jsonl", "dlq/other.jsonl"));
        (code, log) = await RunAsync(lonely, "deadletter", "replay", "users.jsonl");
        Assert.Equal(2, code);
        Assert.Contains("no configuration for users.jsonl: pass --config FILE", log);
        Assert.True(File.Exists(copy));
        Assert.Equal(requests, receiver.Requests);
        Directory.Delete(lonely, true);
        Directory.Delete(elsewhere, true);
    }

    /// <summary>The README's claim: replay works with pikachu's <c>config.yaml</c> (in the current folder, no --config).</summary>
    [Fact]
    public async Task Replay_works_with_a_pikachu_config_yaml()
    {
        AssertBuiltPlugin();
        db.Sql("DROP DATABASE IF EXISTS wh_pk_replay; CREATE DATABASE wh_pk_replay; CREATE TABLE wh_pk_replay.users (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var failing = true;
        receiver.Respond = _ => Volatile.Read(ref failing) ? new Reply(503) : new Reply();
        var dir = TestTemp.CreateSubdirectory("pluginhost-pikachu-replay-").FullName;
        var configPath = Path.Combine(dir, "config.yaml");
        await File.WriteAllTextAsync(configPath, $$"""
            database:
              host: "{{db.Host}}"
              port: {{db.Port}}
              user: "root"
              password: ""
              database: "wh_pk_replay"
              server_id: 7301
            dispatcher:
              worker_count: 4
              max_retries: 1
              retry_base_delay: 10ms
              retry_max_delay: 20ms
            callback_host: "{{receiver.BaseUrl}}"
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, "tasks.yaml"), """
            tasks:
              - task_id: "user_sync"
                name: "users"
                table_name: "users"
                events: ["insert", "update", "delete"]
                callback_url: "/webhook/user"
            """);
        await using var p = WebhookPipeline.Start(ConfigLoader.Load(configPath), dir, output);
        await p.RunningAsync();
        db.Sql("INSERT INTO users VALUES (1, 'Ann'), (2, 'Bob'); UPDATE users SET name = 'Ann B.' WHERE id = 1; DELETE FROM users WHERE id = 2;", "wh_pk_replay");
        await p.CaughtUpAsync(db, CatchUp);
        var dlq = Path.Combine(dir, "state", "pikachu.deadletter.jsonl");
        Assert.Equal(4, File.ReadAllLines(dlq).Length);

        Volatile.Write(ref failing, false);
        var (code, log) = await RunAsync(dir, "deadletter", "replay", "state/pikachu.deadletter.jsonl");
        Assert.Equal(0, code);
        Assert.Contains($"using the configuration {configPath}", log);
        Assert.Contains("through pipeline 'pikachu'", log);
        Assert.Contains("4 delivered, 0 dead-lettered again", log);
        // Sent again to the task's URL in pikachu's payload, each row in commit order.
        var events = receiver.Events();
        Assert.All(events, e => Assert.Equal("/webhook/user", e.Request.Path));
        string[] Row(long id) => events.Where(e => e.Event["primary_id"]!.GetValue<long>() == id).Select(e => e.Event["event"]!.GetValue<string>()).ToArray();
        Assert.Equal(["insert", "update"], Row(1));
        Assert.Equal(["insert", "delete"], Row(2));
        var update = events.Single(e => e.Event["event"]!.GetValue<string>() == "update").Event;
        Assert.Equal("Ann", update["old_data"]!["name"]!.GetValue<string>());
        Assert.Equal("Ann B.", update["new_data"]!["name"]!.GetValue<string>());
        Assert.False(File.Exists(dlq));
    }
}
