using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// An on-demand snapshot into a webhook pipeline with two receivers, one of which answers 500 throughout (issues 13
/// and 16 together): the healthy receiver gets every snapshot row and every stream change while the other fails, the
/// checkpoint stays behind what the failing receiver owes (binlog position and snapshot progress alike), and once it
/// recovers everything reaches it, each row once, and the checkpoint catches up.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotIntoFailingReceiverTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 4000;
    private const int LiveRows = 20;

    [Fact]
    public async Task The_healthy_receiver_gets_the_snapshot_and_the_stream_while_the_other_fails_and_the_checkpoint_waits_for_it()
    {
        var database = NewDatabase("combo_fail_", Rows);
        await using var good = await WebhookReceiver.StartAsync();
        await using var bad = await WebhookReceiver.StartAsync();
        var badDown = 0;
        bad.Respond = _ => Volatile.Read(ref badDown) == 1 ? new Reply(500) : new Reply();
        const string name = "twohooks";
        await using var host = await ApiTestHost.StartNewAsync($$"""
              - name: {{name}}
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                snapshot: { chunk_size: 200 }
                sink:
                  type: webhook
                  worker_count: 4
                  batch_size: 50
                  max_retries: 1000000
                  retry_base_delay: 50ms
                  retry_max_delay: 300ms
                  probe_interval: 500ms
                  tasks:
                    - { id: good, table: "*", url: "{{good.BaseUrl}}/good" }
                    - { id: bad, table: "*", url: "{{bad.BaseUrl}}/bad" }
            """);
        await host.WaitForStateAsync(name, "running", seconds: 60);

        // One change both receivers took: the checkpoint stands just after it.
        db.Sql("INSERT INTO live VALUES (0, 'before');", database);
        var before = (await host.WaitForCheckpointAsync(name, 1, seconds: 60)).GetProperty("position");
        var checkpointPath = Path.Combine(host.Dir, "state", name + ".checkpoint.json");
        Assert.Equal(1, before.GetProperty("events_delivered").GetInt64());

        Volatile.Write(ref badDown, 1);
        var (status, accepted, _) = await host.PostAsync($"pipelines/{name}/snapshot", JsonSerializer.Serialize(new { tables = new[] { $"{database}.big" } }));
        Assert.True(status == HttpStatusCode.Accepted, $"{status}: {accepted}");
        // Changes committed while the snapshot runs, one transaction each; the healthy receiver must not wait on /bad.
        var committedAt = new Dictionary<int, long>();
        for (var i = 1; i <= LiveRows; i++)
        {
            committedAt[i] = Stopwatch.GetTimestamp();
            db.Sql($"INSERT INTO live VALUES ({i}, 'during');", database);
            await Task.Delay(50);
        }
        await Wait.UntilAsync(() => Reads(good).Count >= Rows && Live(good).Count >= LiveRows + 1, TimeSpan.FromSeconds(120),
            () => $"good: {Reads(good).Count} reads, {Live(good).Count} live rows\n{host.Logs.Text}");
        var arrivedAt = good.Events().Where(e => e.Event["table"]!.GetValue<string>() == "live")
            .GroupBy(e => e.Event["after"]!["id"]!.GetValue<int>()).ToDictionary(g => g.Key, g => g.Min(e => e.Request.AtTicks));
        var worst = committedAt.Max(c => Stopwatch.GetElapsedTime(c.Value, arrivedAt[c.Key]));
        output.WriteLine($"good got {Reads(good).Count} reads and {Live(good).Count} live rows; slowest live row {worst.TotalSeconds:0.0} s; bad answered {bad.Requests} requests with 500");
        Assert.True(worst < TimeSpan.FromSeconds(30), $"a live row reached the healthy receiver {worst.TotalSeconds:0.0} s after its commit");
        Assert.Equal(Enumerable.Range(1, Rows), Reads(good).Order());
        Assert.True(bad.Requests > 0, "the failing receiver was never tried");
        Assert.Single(Live(bad)); // only the row from before the outage

        // While /bad owes them: degraded, naming the task; the checkpoint has not moved past what it owes.
        var degraded = await host.WaitForAsync(name, p => p.GetProperty("sink").GetProperty("targets").EnumerateArray()
            .Any(t => t.GetProperty("failing").GetBoolean() && t.GetProperty("pending").GetInt64() > 0), "the bad target failing with events pending", seconds: 30);
        output.WriteLine($"while failing: state {degraded.GetProperty("state")}, targets {degraded.GetProperty("sink").GetProperty("targets")}, position {degraded.GetProperty("position")}");
        var held = degraded.GetProperty("position");
        Assert.Equal(before.GetProperty("file").GetString(), held.GetProperty("file").GetString());
        Assert.Equal(before.GetProperty("pos").GetInt64(), held.GetProperty("pos").GetInt64());
        Assert.Equal(1, held.GetProperty("events_delivered").GetInt64());
        Assert.True(SnapshotRowsIn(checkpointPath) <= 0, File.ReadAllText(checkpointPath)); // no snapshot progress, or none delivered

        // /bad recovers: everything reaches it, each row once; the checkpoint catches up and forgets the snapshot.
        Volatile.Write(ref badDown, 0);
        await Wait.UntilAsync(() => Reads(bad).Count >= Rows && Live(bad).Count >= LiveRows + 1, TimeSpan.FromSeconds(120),
            () => $"bad: {Reads(bad).Count} reads, {Live(bad).Count} live rows\n{host.Logs.Text}");
        var end = Kit.MasterStatus(db);
        var done = await host.WaitForAsync(name, p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean()
                && p.GetProperty("position") is { ValueKind: JsonValueKind.Object } cp && cp.GetProperty("file").GetString() == end.File && cp.GetProperty("pos").GetInt64() >= end.Position,
            $"the snapshot to end and the checkpoint to reach {end}", seconds: 60);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("snapshot").GetProperty("ended_because").ValueKind);
        Assert.Equal("running", done.GetProperty("state").GetString());
        Assert.Equal(1 + LiveRows + Rows, done.GetProperty("position").GetProperty("events_delivered").GetInt64());
        await Wait.UntilAsync(() => SnapshotRowsIn(checkpointPath) == -1, TimeSpan.FromSeconds(30), () => File.ReadAllText(checkpointPath));
        foreach (var r in new[] { good, bad })
        {
            Assert.Equal(Enumerable.Range(1, Rows), Reads(r).Order());
            Assert.Equal(Enumerable.Range(0, LiveRows + 1), Live(r).Order());
        }
    }

    [Fact]
    public async Task Cancelling_the_snapshot_while_a_receiver_owes_it_and_restarting_loses_no_change_and_does_not_resume_it()
    {
        const int bigRows = 40_000;
        var database = NewDatabase("combo_cancel_", bigRows);
        await using var good = await WebhookReceiver.StartAsync();
        await using var bad = await WebhookReceiver.StartAsync();
        var badDown = 0;
        bad.Respond = _ => Volatile.Read(ref badDown) == 1 ? new Reply(500) : new Reply();
        const string name = "cancelowed";
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token, $$"""
              - name: {{name}}
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
                filter: { include: ["{{database}}.*"] }
                snapshot: { chunk_size: 20 }
                drain_timeout: 1s
                sink:
                  type: webhook
                  worker_count: 4
                  batch_size: 50
                  max_retries: 1000000
                  retry_base_delay: 50ms
                  retry_max_delay: 300ms
                  probe_interval: 500ms
                  tasks:
                    - { id: good, table: "*", url: "{{good.BaseUrl}}/good" }
                    - { id: bad, table: "*", url: "{{bad.BaseUrl}}/bad" }
            """);
        var checkpointPath = Path.Combine(dir, "state", name + ".checkpoint.json");
        var liveId = 0;
        var host = await ApiTestHost.StartAsync(dir);
        try
        {
            await host.WaitForStateAsync(name, "running", seconds: 60);
            db.Sql("INSERT INTO live VALUES (0, 'before');", database);
            await host.WaitForCheckpointAsync(name, 1, seconds: 60);

            // /bad fails; a snapshot starts, changes come, the snapshot is cancelled part-way, more changes come.
            Volatile.Write(ref badDown, 1);
            var (status, body, _) = await host.PostAsync($"pipelines/{name}/snapshot", JsonSerializer.Serialize(new { tables = new[] { $"{database}.big" } }));
            Assert.True(status == HttpStatusCode.Accepted, $"{status}: {body}");
            for (var i = 0; i < 10; i++) db.Sql($"INSERT INTO live VALUES ({++liveId}, 'during');", database);
            await host.WaitForAsync(name, p => p.GetProperty("snapshot") is { ValueKind: JsonValueKind.Object } s && s.GetProperty("active").GetBoolean()
                                               && s.GetProperty("tables")[0].GetProperty("chunks").GetInt64() >= 3, "the snapshot part-way", seconds: 60);
            var (cancelled, cancelBody, _) = await host.SendAsync(HttpMethod.Delete, $"pipelines/{name}/snapshot");
            Assert.True(cancelled == HttpStatusCode.OK, $"{cancelled}: {cancelBody}");
            for (var i = 0; i < 10; i++) db.Sql($"INSERT INTO live VALUES ({++liveId}, 'after cancel');", database);
            await Wait.UntilAsync(() => Live(good).Distinct().Count() >= liveId + 1, TimeSpan.FromSeconds(60),
                () => $"good: {Live(good).Count} live rows\n{host.Logs.Text}");
            Assert.Single(Live(bad));
            // The checkpoint stayed before what /bad owes, and holds no progress of the cancelled snapshot.
            var held = await host.PipelineAsync(name);
            output.WriteLine($"after the cancel, /bad failing: position {held.GetProperty("position")}; snapshot {held.GetProperty("snapshot")}");
            Assert.Equal(1, held.GetProperty("position").GetProperty("events_delivered").GetInt64());
            Assert.True(SnapshotRowsIn(checkpointPath) <= 0, File.ReadAllText(checkpointPath));

            // A restart with /bad still failing, then /bad recovers: every change reaches it; the cancelled snapshot is not resumed.
            await host.DisposeAsync();
            host = await ApiTestHost.StartAsync(dir);
            await host.WaitForAsync(name, p => p.GetProperty("state").GetString() is "running" or "degraded", "the restarted pipeline", seconds: 60);
            Volatile.Write(ref badDown, 0);
            await Wait.UntilAsync(() => Live(bad).Distinct().Count() >= liveId + 1, TimeSpan.FromSeconds(120),
                () => $"bad: {Live(bad).Count} live rows\n{host.Logs.Text}");
            var end = Kit.MasterStatus(db);
            await host.WaitForAsync(name, p => p.GetProperty("position") is { ValueKind: JsonValueKind.Object } cp
                                               && cp.GetProperty("file").GetString() == end.File && cp.GetProperty("pos").GetInt64() >= end.Position,
                $"the checkpoint to reach {end}", seconds: 60);
            Assert.Equal(-1, SnapshotRowsIn(checkpointPath));
            Assert.DoesNotContain($"snapshot of {database}.big", host.Logs.Text, StringComparison.Ordinal);
            foreach (var r in new[] { good, bad }) Assert.Equal(Enumerable.Range(0, liveId + 1), Live(r).Distinct().Order());
            output.WriteLine($"bad got {Reads(bad).Distinct().Count()} snapshot rows of the cancelled snapshot, good {Reads(good).Distinct().Count()}");
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Ids of the snapshot rows a receiver accepted (one entry per distinct webhook-id's event).</summary>
    private static List<int> Reads(WebhookReceiver r) =>
        r.Events().Where(e => e.Event["op"]!.GetValue<string>() == "read").Select(e => e.Event["after"]!["id"]!.GetValue<int>()).ToList();

    /// <summary>Ids of the inserts into <c>live</c> a receiver accepted.</summary>
    private static List<int> Live(WebhookReceiver r) =>
        r.Events().Where(e => e.Event["table"]!.GetValue<string>() == "live").Select(e => e.Event["after"]!["id"]!.GetValue<int>()).ToList();

    /// <summary>The snapshot rows the checkpoint file says were delivered; -1 when it holds no snapshot.</summary>
    private static long SnapshotRowsIn(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.TryGetProperty("snapshot", out var s) && s.ValueKind == JsonValueKind.Object
            ? s.GetProperty("tables").EnumerateArray().Sum(t => t.GetProperty("rows").GetInt64())
            : -1;
    }

    /// <summary>A new database with a table <c>big</c> of <paramref name="rows"/> rows and an empty table <c>live</c>.</summary>
    private string NewDatabase(string prefix, int rows)
    {
        var database = prefix + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE live (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{rows};
            """);
        return database;
    }
}
