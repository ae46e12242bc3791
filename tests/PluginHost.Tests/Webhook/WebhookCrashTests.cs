using System.Diagnostics;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// <c>kill -9</c> of the real host process (<c>dotnet pluginhost.dll run --config …</c>, the webhook plugin loaded from
/// the built plugins folder) while webhooks are failing and being retried: after restarts, every change reaches the
/// receiver, each row in commit order. Redeliveries carry the webhook-id of the first attempt, so a receiver that
/// drops repeated ids sees each change exactly once.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WebhookCrashTests(MariaDbServer db, ITestOutputHelper output)
{
    [Fact]
    public async Task Kill_minus_nine_during_retries_loses_nothing()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-webhook-crash-").FullName;
        db.Sql("DROP DATABASE IF EXISTS wh_crash; CREATE DATABASE wh_crash; CREATE TABLE wh_crash.t (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var mode = 0; // 0 healthy, 1 every request fails, 2 a third fail
        var rnd = new Random(3);
        receiver.Respond = _ =>
        {
            lock (rnd)
                return Volatile.Read(ref mode) switch
                {
                    1 => new Reply(500),
                    2 when rnd.NextDouble() < 0.33 => new Reply(503),
                    _ => new Reply(),
                };
        };
        var plugins = PluginDirectories.BuiltPlugins;
        Assert.True(File.Exists(Path.Combine(plugins, "Webhook", "PluginHost.Plugins.Webhook.dll")), $"the webhook plugin is not built in {plugins}");
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, $$"""
            state_dir: state
            plugins_dir: {{plugins}}
            server: { enabled: false }
            pipelines:
              - name: crashhook
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 7777, ssl: none, heartbeat: 1s, start: {{WebhookPipeline.StartHere(db)}} }
                filter: { include: ["wh_crash.*"] }
                sink:
                  type: webhook
                  callback_host: {{receiver.BaseUrl}}
                  worker_count: 8
                  max_retries: 1000000
                  retry_base_delay: 20ms
                  retry_max_delay: 200ms
                  tasks: [ { table: t, url: /crash } ]
            """);
        const int rows = 200;
        var expected = Enumerable.Range(1, rows).ToDictionary(i => (long)i, _ => new List<string>());
        var version = new int[rows + 1];
        var writeRnd = new Random(11);
        void Round(int statements)
        {
            var sql = new System.Text.StringBuilder();
            for (var k = 0; k < statements; k++)
            {
                var from = 1 + writeRnd.Next(rows - 10);
                sql.Append($"UPDATE t SET v = v + 1 WHERE id BETWEEN {from} AND {from + 9};\n");
                for (var i = from; i <= from + 9; i++) expected[i].Add("u" + ++version[i]);
            }
            db.Sql(sql.ToString(), "wh_crash");
        }

        var log = Path.Combine(dir, "host.log");
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            await Wait.UntilAsync(() => host.ReadLog().Contains("streaming binlog"), TimeSpan.FromSeconds(30), () => host.ReadLog());
            db.Sql($"INSERT INTO t SELECT seq, 0 FROM seq_1_to_{rows};", "wh_crash");
            foreach (var list in expected.Values) list.Add("i0");
            Round(10);
            // Everything so far delivered and checkpointed: the restarts must resume from there, not from the start.
            var checkpoint = Path.Combine(dir, "state", "crashhook.checkpoint.json");
            await Wait.UntilAsync(() => receiver.Events().Count >= rows + 100 && File.Exists(checkpoint), TimeSpan.FromSeconds(20), () => host.ReadLog());
            var firstCheckpoint = File.ReadAllText(checkpoint);

            // Every request fails now: new changes sit in the lanes, being retried. Kill the host in the middle of it.
            Volatile.Write(ref mode, 1);
            Round(20);
            await Task.Delay(1500);
            var before = receiver.Requests;
            await Task.Delay(300);
            Assert.True(receiver.Requests > before, "the host should be retrying");
            host.KillHard();
            host.Dispose();

            // Restart with a flaky receiver, write more, kill again mid-retries.
            Volatile.Write(ref mode, 2);
            host = HostProcess.Start(log, "run", "--config", config);
            await Wait.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2, TimeSpan.FromSeconds(30), () => host.ReadLog());
            Assert.Contains("resuming from checkpoint", host.ReadLog());
            Round(20);
            await Task.Delay(700);
            host.KillHard();
            host.Dispose();

            // Healthy again: restart and let it catch up.
            Volatile.Write(ref mode, 0);
            host = HostProcess.Start(log, "run", "--config", config);
            Round(10);
            db.Sql("DELETE FROM t WHERE id > 190;", "wh_crash");
            for (var i = 191; i <= rows; i++) expected[i].Add("d");
            var total = expected.Values.Sum(l => l.Count);
            await Wait.UntilAsync(() => receiver.Events().Count >= total, TimeSpan.FromSeconds(60),
                () => $"{receiver.Events().Count} of {total} changes arrived; log:\n{host.ReadLog()}");
            Assert.True(host.Terminate(TimeSpan.FromSeconds(20)), "the host did not stop on SIGTERM");

            Assert.NotEqual(firstCheckpoint, File.ReadAllText(checkpoint));
            var raw = receiver.Accepted.Sum(r => r.Events().Count());
            output.WriteLine($"{total} changes; the receiver accepted {raw} events ({raw - total} redelivered after the kills, same webhook-id)");
            AssertSameHistories(expected, ByRow(receiver.Events().Select(e => e.Event)));
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(40)));
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
