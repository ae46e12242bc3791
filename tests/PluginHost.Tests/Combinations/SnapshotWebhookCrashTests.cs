using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Config;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// kill -9 of the real host in the middle of an initial snapshot into a webhook receiver that fails some requests
/// (retried) and refuses some rows for good (dead-lettered), then a restart (issues 13 and 16 with the crash rules):
/// the snapshot resumes after the last checkpointed chunk, and every row is either accepted by the receiver or in the
/// dead-letter file; repeats stay within what was in flight.
/// </summary>
[Collection(MariaDbCollection.Name)] // the first chain: the second one had grown to the longer by about three minutes
[Trait("Category", "Integration")]
public sealed partial class SnapshotWebhookCrashTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 40_000;
    private const int ChunkSize = 1000;
    private const int InFlightEvents = 2000;
    private const int BatchSize = 500;

    [Fact]
    public async Task Kill_minus_nine_during_a_snapshot_into_a_webhook_with_dead_letters_resumes_and_misses_nothing()
    {
        var database = "combo_crash_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{Rows};
            """);
        await using var receiver = await WebhookReceiver.StartAsync();
        var random = new Random(20);
        // A request holding a row whose id is a multiple of 997 is refused for good (dead letter); one in ten fails (retried).
        receiver.Respond = r =>
        {
            if (r.Events().Any(e => e["after"]!["id"]!.GetValue<int>() % 997 == 0)) return new Reply(400);
            lock (random) return random.NextDouble() < 0.1 ? new Reply(500) : new Reply(Delay: TimeSpan.FromMilliseconds(5));
        };
        var dir = TestTemp.CreateSubdirectory("pluginhost-combo-crash-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, $$"""
            state_dir: state
            plugins_dir: {{PluginDirectories.BuiltPlugins}}
            server: { enabled: false }
            pipelines:
              - name: crashsnap
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: {{Kit.NextServerId()}}, ssl: none, heartbeat: 1s }
                filter: { include: ["{{database}}.*"] }
                snapshot: { mode: initial, chunk_size: {{ChunkSize}} }
                batch_size: {{BatchSize}}
                in_flight_events: {{InFlightEvents}}
                sink:
                  type: webhook
                  worker_count: 4
                  batch_size: 10
                  max_retries: 2
                  retry_base_delay: 20ms
                  retry_max_delay: 100ms
                  dead_letter: dead.jsonl
                  tasks: [ { id: rows, table: "*", url: "{{receiver.BaseUrl}}/rows" } ]
            """);
        var checkpoint = Path.Combine(dir, "state", "crashsnap.checkpoint.json");
        var deadLetters = Path.Combine(dir, "dead.jsonl");
        var log = Path.Combine(dir, "host.log");
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            await Poll.UntilAsync(() => Reads(receiver).Count >= Rows * 3 / 10 && CheckpointedRows(checkpoint) >= Rows / 5 || host.HasExited,
                TimeSpan.FromSeconds(180), () => $"{Reads(receiver).Count} rows accepted, checkpoint {Read(checkpoint)}\n{host.ReadLog()}", 10);
            Assert.False(host.HasExited, host.ReadLog());
            host.KillHard();
            host.Dispose();
            var acceptedAtKill = Reads(receiver).Count;
            var checkpointAtKill = CheckpointedRows(checkpoint);
            output.WriteLine($"killed with {acceptedAtKill} rows accepted; the checkpoint holds {checkpointAtKill}");
            Assert.InRange(acceptedAtKill, 1, Rows - 5 * ChunkSize); // the kill landed in the middle of the snapshot

            host = HostProcess.Start(log, "run", "--config", config);
            await Poll.UntilAsync(() => Read(checkpoint) is { } cp && !(cp.TryGetProperty("snapshot", out var s) && s.ValueKind != JsonValueKind.Null) || host.HasExited,
                TimeSpan.FromSeconds(240), () => $"the snapshot to be done and checkpointed: {Read(checkpoint)}\n{host.ReadLog()}", 100);
            Assert.False(host.HasExited, host.ReadLog());
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");
            var hostLog = host.ReadLog();

            var starts = TableStarted().Matches(hostLog).Where(m => m.Groups[1].Value == database)
                .Select(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
            var accepted = Reads(receiver);
            var dead = File.ReadAllLines(deadLetters).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetProperty("after").GetProperty("id").GetInt32()).ToList();
            var raw = receiver.Accepted.Sum(r => r.Events().Count());
            output.WriteLine($"snapshot started from rows {string.Join(", ", starts)}; {accepted.Count} distinct deliveries ({raw} events accepted in all), {dead.Count} dead letters");
            Assert.Equal(2, starts.Count);
            Assert.Equal(0, starts[0]);
            Assert.True(starts[1] >= checkpointAtKill && starts[1] > 0, $"the restart's snapshot began at row {starts[1]}, the checkpoint held {checkpointAtKill}");

            // Nothing missed: every row accepted or dead-lettered, the refused ones only in the dead letters.
            var refused = Enumerable.Range(1, Rows).Where(i => i % 997 == 0).ToHashSet();
            Assert.Equal(Enumerable.Range(1, Rows), accepted.Concat(dead).Distinct().Order());
            Assert.DoesNotContain(accepted, refused.Contains);
            Assert.Superset(refused, dead.ToHashSet());
            // Repeats stay within what one kill may resend: what was in flight plus the chunks past the saved checkpoint.
            var repeated = accepted.Count - accepted.Distinct().Count() + dead.Count - dead.Distinct().Count();
            Assert.InRange(repeated, 0, InFlightEvents + BatchSize + 3 * ChunkSize);
        }
        finally
        {
            output.WriteLine(string.Join('\n', host.ReadLog().Split('\n').TakeLast(30)));
            host.Dispose();
        }
    }

    /// <summary>Ids of the rows the receiver accepted, once per distinct webhook-id (a redelivery of a batch counts once).</summary>
    private static List<int> Reads(WebhookReceiver r) =>
        r.Events().Where(e => e.Event["op"]!.GetValue<string>() == "read").Select(e => e.Event["after"]!["id"]!.GetValue<int>()).ToList();

    private static long CheckpointedRows(string path) =>
        Read(path) is { } cp && cp.TryGetProperty("snapshot", out var s) && s.ValueKind == JsonValueKind.Object
            ? s.GetProperty("tables").EnumerateArray().Sum(t => t.GetProperty("rows").GetInt64())
            : 0;

    /// <summary>The checkpoint file as JSON (null: none yet, or being replaced).</summary>
    private static JsonElement? Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    [GeneratedRegex(@"snapshot of (\w+)\.big \(about -?\d+ rows, chunk key id\) from row (\d+)")]
    private static partial Regex TableStarted();
}
