using System.Text.Json;
using PluginHost.Config;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// A <c>when_needed</c> webhook pipeline whose receiver is down when the host stops with events still owed, then the
/// binlog of its checkpoint is purged and the host starts again with the receiver still down (issues 13 and 16
/// together, real host processes, a private MariaDB so the purge touches no other test): the pipeline reads the tables
/// again instead of failing, holds what it owes until the receiver is back, and then the receiver has every row as the
/// table now holds it; the stream goes on after.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PurgedWhileReceiverDownTests(ITestOutputHelper output)
{
    private const string Database = "combo_purge";

    [Fact]
    public async Task When_needed_after_a_purge_while_the_receiver_is_down_delivers_every_row_once_it_is_back()
    {
        using var server = new MariaDbServer(extraArgs: null);
        server.Sql($"CREATE DATABASE {Database};");
        server.Sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(30) NOT NULL); INSERT INTO t SELECT seq, 'initial' FROM seq_1_to_100;", Database);
        await using var receiver = await WebhookReceiver.StartAsync();
        var dir = TestTemp.CreateSubdirectory("pluginhost-combo-purge-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, $$"""
            state_dir: state
            plugins_dir: {{PluginDirectories.BuiltPlugins}}
            server: { enabled: false }
            pipelines:
              - name: purged
                source: { host: {{server.Host}}, port: {{server.Port}}, user: {{server.User}}, password: "", server_id: 4711, ssl: none, heartbeat: 1s }
                filter: { include: ["{{Database}}.*"] }
                snapshot: { mode: when_needed, chunk_size: 25 }
                drain_timeout: 1s
                sink:
                  type: webhook
                  worker_count: 2
                  max_retries: 1000000
                  retry_base_delay: 50ms
                  retry_max_delay: 300ms
                  probe_interval: 300ms
                  tasks: [ { table: "*", url: "{{receiver.BaseUrl}}/rows" } ]
            """);
        var checkpoint = Path.Combine(dir, "state", "purged.checkpoint.json");
        var log = Path.Combine(dir, "host.log");
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            // The initial snapshot and a few changes arrive and are checkpointed.
            server.Sql("INSERT INTO t SELECT seq, 'streamed' FROM seq_101_to_110;", Database);
            await Poll.UntilAsync(() => Ids(receiver).Count >= 110 && Checkpoint(checkpoint) is { } cp && NoSnapshot(cp) && cp.GetProperty("events_delivered").GetInt64() >= 110 || host.HasExited,
                TimeSpan.FromSeconds(90), () => $"{Ids(receiver).Count} rows; checkpoint {Checkpoint(checkpoint)}\n{host.ReadLog()}", 50);
            Assert.False(host.HasExited, host.ReadLog());
            var delivered = Checkpoint(checkpoint)!.Value.GetProperty("events_delivered").GetInt64();

            // The receiver goes down; changes are owed; the host stops with them owed.
            await receiver.StopAsync();
            server.Sql("INSERT INTO t SELECT seq, 'owed' FROM seq_111_to_120; UPDATE t SET v = 'owed update' WHERE id <= 5;", Database);
            await Poll.UntilAsync(() => host.ReadLog().Contains("failed (attempt", StringComparison.Ordinal) || host.HasExited, TimeSpan.FromSeconds(30),
                () => "a delivery failure in the log\n" + host.ReadLog(), 100);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(60)), "the host did not stop on SIGTERM");
            host.Dispose();
            Assert.Equal(delivered, Checkpoint(checkpoint)!.Value.GetProperty("events_delivered").GetInt64()); // the owed changes were not checkpointed

            // While it is stopped: more changes, then the checkpoint's binlog is purged.
            server.Sql("INSERT INTO t SELECT seq, 'while stopped' FROM seq_121_to_130; DELETE FROM t WHERE id BETWEEN 50 AND 54;", Database);
            server.Sql("FLUSH BINARY LOGS;");
            var current = Kit.MasterStatus(server).File;
            await Poll.UntilAsync(() =>
            {
                server.Sql($"PURGE BINARY LOGS TO '{current}';"); // a file still needed for crash recovery is kept a moment longer
                return server.BinlogFiles().All(f => string.CompareOrdinal(Path.GetFileName(f), current) >= 0);
            }, TimeSpan.FromSeconds(30), () => "the old binlog files to be purged", 100);

            // Restart with the receiver still down: it reads the table again, and holds it.
            var before = receiver.Events().Count;
            host = HostProcess.Start(log, "run", "--config", config);
            await Poll.UntilAsync(() => host.ReadLog().Split("streaming binlog").Length > 2 || host.HasExited, TimeSpan.FromSeconds(60),
                () => "the restarted pipeline streaming\n" + host.ReadLog(), 100);
            Assert.False(host.HasExited, host.ReadLog());
            await Poll.UntilAsync(() => host.ReadLog().Contains($"snapshot of {Database}.t done", StringComparison.Ordinal) || host.HasExited, TimeSpan.FromSeconds(60),
                () => "the snapshot read to its end\n" + host.ReadLog(), 100);
            await Task.Delay(1000); // the receiver stays down a while after the snapshot was read (not an assertion)
            var restartLog = host.ReadLog();
            Assert.Contains("is gone from the server", restartLog, StringComparison.Ordinal);
            Assert.Contains("snapshot.mode when_needed: reading the tables again and streaming from now", restartLog, StringComparison.Ordinal);
            Assert.DoesNotContain("→ failed", restartLog, StringComparison.Ordinal);
            // Nothing reached the receiver yet: the checkpoint must not claim the new position without the snapshot's progress
            // (a crash now would lose the table), and it holds no delivered snapshot row.
            var held = Checkpoint(checkpoint)!.Value;
            output.WriteLine("checkpoint while the receiver is down after the re-snapshot: " + held);
            Assert.True(!NoSnapshot(held) || held.GetProperty("file").GetString() == "mysql-bin.000001", $"the checkpoint moved on without the snapshot: {held}");
            if (!NoSnapshot(held)) Assert.All(held.GetProperty("snapshot").GetProperty("tables").EnumerateArray(), t => Assert.Equal(0, t.GetProperty("rows").GetInt64()));

            // The receiver is back: every row of the table arrives as it is now; later changes stream on.
            await receiver.StartAgainAsync();
            server.Sql($"INSERT INTO {Database}.t VALUES (131, 'after');");
            var expected = Table(server);
            await Poll.UntilAsync(() => Replay(receiver.Events().Skip(before).Select(e => e.Event)) is var r && expected.All(kv => r.TryGetValue(kv.Key, out var v) && v == kv.Value),
                TimeSpan.FromSeconds(120), () => $"the receiver to hold the table; it got {receiver.Events().Count - before} events since the restart\n{host.ReadLog()}", 200);
            var end = Kit.MasterStatus(server);
            await Poll.UntilAsync(() => Checkpoint(checkpoint) is { } cp && cp.GetProperty("file").GetString() == end.File && cp.GetProperty("position").GetInt64() >= end.Position,
                TimeSpan.FromSeconds(60), () => $"the checkpoint to reach {end}: {Checkpoint(checkpoint)}", 100);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(60)), "the host did not stop on SIGTERM");

            var since = receiver.Events().Skip(before).Select(e => e.Event).ToList();
            output.WriteLine($"after the restart: {since.Count} events ({since.Count(e => e["op"]!.GetValue<string>() == "read")} reads) for {expected.Count} rows");
            var replay = Replay(since);
            Assert.Equal(expected.OrderBy(kv => kv.Key), replay.OrderBy(kv => kv.Key));
            Assert.Equal("after", since.Last(e => e["after"]?["id"]?.GetValue<int>() == 131)["after"]!["v"]!.GetValue<string>());
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(40)));
            host.Dispose();
        }
    }

    private static HashSet<int> Ids(WebhookReceiver r) => r.Events().Select(e => (e.Event["after"] ?? e.Event["before"])!["id"]!.GetValue<int>()).ToHashSet();

    /// <summary>Applies events in order (read/insert/update: set, delete: remove): the table a consumer would hold.</summary>
    private static Dictionary<int, string> Replay(IEnumerable<System.Text.Json.Nodes.JsonObject> events)
    {
        var rows = new Dictionary<int, string>();
        foreach (var e in events)
            if (e["op"]!.GetValue<string>() == "delete") rows.Remove(e["before"]!["id"]!.GetValue<int>());
            else rows[e["after"]!["id"]!.GetValue<int>()] = e["after"]!["v"]!.GetValue<string>();
        return rows;
    }

    private static Dictionary<int, string> Table(MariaDbServer server) =>
        server.Sql($"SELECT id, v FROM {Database}.t;").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).ToDictionary(f => int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), f => f[1]);

    private static bool NoSnapshot(JsonElement checkpoint) => !checkpoint.TryGetProperty("snapshot", out var s) || s.ValueKind == JsonValueKind.Null;

    private static JsonElement? Checkpoint(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }
}
