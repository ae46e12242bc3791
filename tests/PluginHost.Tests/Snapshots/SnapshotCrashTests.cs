using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Binlog.Protocol;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// kill -9 of the real host process in the middle of an initial snapshot of a 200,000-row table (a writer changing
/// rows meanwhile), then a restart: the snapshot continues after the last checkpointed chunk instead of starting
/// over, every row is read, the repeats stay within what was in flight, and the consumer's replay equals the table.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class SnapshotCrashTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 200_000;
    private const int ChunkSize = 2000;
    private const int BatchSize = 1000;
    private const int InFlightEvents = 4000;
    private const string Database = "crash_snap";

    [Fact]
    public async Task Kill_minus_nine_during_a_snapshot_resumes_after_the_last_checkpointed_chunk()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-snapcrash-").FullName;
        db.Sql($"DROP DATABASE IF EXISTS {Database}; CREATE DATABASE {Database}; CREATE TABLE {Database}.t (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40) NOT NULL);");
        for (var from = 1; from <= Rows; from += 20_000)
            db.Sql($"INSERT INTO t SELECT seq, seq * 10, CONCAT('row ', seq) FROM seq_{from}_to_{from + 19_999};", Database);
        var config = Path.Combine(dir, "pluginhost.yaml");
        var outFile = Path.Combine(dir, "out.jsonl");
        var checkpointFile = Path.Combine(dir, "state", "snapcrash.checkpoint.json");
        File.WriteAllText(config, $$"""
            state_dir: state
            server: { enabled: false }
            pipelines:
              - name: snapcrash
                source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "", server_id: 4343, ssl: none, heartbeat: 1s }
                filter: { include: ["{{Database}}.*"] }
                snapshot: { mode: initial, chunk_size: {{ChunkSize}} }
                transform: transforms/pace.csx
                batch_size: {{BatchSize}}
                in_flight_events: {{InFlightEvents}}
                sink: { type: file, path: out.jsonl }
            """);
        // A snapshot of 200,000 rows takes about a second now: a transform that sleeps 1 ms every 40 events paces it
        // (about 5 s), so the kill reliably lands in its middle.
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        File.WriteAllText(Path.Combine(dir, "transforms", "pace.csx"), "int n;\nChangeEvent Transform(ChangeEvent e) { if (++n % 40 == 0) System.Threading.Thread.Sleep(1); return e; }\n");
        var log = Path.Combine(dir, "host.log");
        using var writing = new CancellationTokenSource();
        var touched = new HashSet<long>(); // ids of the original rows the writer changed (those may rightly not be read)
        Task<int>? writer = null;
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            // Kill once the file holds a good part of the rows and a checkpoint carries the snapshot's progress.
            using var tail = new LineCounter(outFile);
            var clock = Stopwatch.StartNew();
            while (!(tail.Count() >= 80_000 && CheckpointedSnapshotRows(checkpointFile) >= 40_000))
            {
                Assert.False(host.HasExited, "the host exited:\n" + host.ReadLog());
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), $"timed out: {tail.Count()} lines, checkpoint {Read(checkpointFile)}\n{host.ReadLog()}");
                if (writer is null && tail.Count() > 0) writer = WriteAsync(touched, writing.Token); // changes interleave with the chunks from now on
                await Task.Delay(10);
            }
            host.KillHard();
            host.Dispose();
            var readBeforeKill = File.ReadLines(outFile).Count(l => l.StartsWith("{\"op\":\"read\"", StringComparison.Ordinal) && l.EndsWith('}'));
            var checkpointAtKill = Read(checkpointFile);
            output.WriteLine($"killed with {readBeforeKill} rows read in the file; checkpoint: {checkpointAtKill}");
            Assert.InRange(readBeforeKill, 60_000, Rows - 20_000); // the kill landed in the middle of the snapshot

            host = HostProcess.Start(log, "run", "--config", config);
            await Poll.UntilAsync(() => Read(checkpointFile) is { } cp && !HasSnapshot(cp) || host.HasExited, TimeSpan.FromSeconds(240),
                () => $"the snapshot to be done and checkpointed; checkpoint: {Read(checkpointFile)}\n{Tail(host.ReadLog(), 20)}", intervalMs: 100);
            Assert.False(host.HasExited, "the host exited:\n" + host.ReadLog());
            writing.Cancel();
            var statements = writer is null ? 0 : await writer;
            var end = MasterStatus();
            await Poll.UntilAsync(() => Read(checkpointFile) is { } cp && Reached(cp, end), TimeSpan.FromSeconds(60),
                () => $"the checkpoint to reach {end}: {Read(checkpointFile)}");
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "the host did not stop on SIGTERM");
            var hostLog = host.ReadLog();

            // The second run's snapshot began where the checkpoint left it, not at row 0.
            var starts = TableStarted().Matches(hostLog).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            output.WriteLine($"snapshot of the table started from rows: {string.Join(", ", starts)}; writer: {statements} statements");
            Assert.Equal(2, starts.Count);
            Assert.Equal(0, starts[0]);
            Assert.True(starts[1] >= 40_000, $"the restart's snapshot began at row {starts[1]}");

            var lines = File.ReadAllLines(outFile);
            var events = lines.Select(ChangeEventJson.Parse).ToList();
            var reads = events.Where(e => e.Op == ChangeOperation.Read).GroupBy(Id).ToDictionary(g => g.Key, g => g.Count());
            var repeatedReads = reads.Values.Sum(n => n - 1);
            // A stream event delivered twice is the same line twice (same file, position, images).
            var repeatedChanges = lines.Where(l => !l.StartsWith("{\"op\":\"read\"", StringComparison.Ordinal)).GroupBy(l => l, StringComparer.Ordinal).Sum(g => g.Count() - 1);
            var repeated = repeatedReads + repeatedChanges;
            // What one kill can repeat: the events handed to the sink and not yet acknowledged (at most in_flight_events
            // plus the batch being handed over), and the acknowledged ones whose checkpoint was not on disk yet. A
            // snapshot chunk is checkpointable only at its end, and acknowledged checkpoints are saved in the background
            // (one save running, one waiting; the acknowledgements wait once the saved one lags more than a batch), so
            // up to three acknowledged chunks may be past the saved checkpoint: in_flight_events + batch_size + 3 chunks.
            const int bound = InFlightEvents + BatchSize + 3 * ChunkSize;
            output.WriteLine($"{lines.Length} lines: {reads.Count} rows read ({repeatedReads} read twice or more), {events.Count - reads.Values.Sum()} changes " +
                             $"({repeatedChanges} repeated); repeated in all {repeated} (bound {bound}); {readBeforeKill} rows read before the kill");
            var unread = Enumerable.Range(1, Rows).Select(i => (long)i).Where(id => !touched.Contains(id) && !reads.ContainsKey(id)).Take(5).ToList();
            Assert.True(unread.Count == 0, $"rows never read: {string.Join(", ", unread)}");
            Assert.InRange(repeated, 0, bound);
            Assert.True(repeated * 5 < readBeforeKill, $"{repeated} repeats against {readBeforeKill} rows read before the kill: the snapshot started over");
            SnapshotReplay.AssertEqualsTable(db, Database, events);
        }
        finally
        {
            writing.Cancel();
            if (writer != null) try { await writer; } catch (Exception) { }
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>Updates, deletes, inserts and re-keys rows one statement at a time until cancelled; notes the original ids it touched.</summary>
    private Task<int> WriteAsync(HashSet<long> touched, CancellationToken ct) => Task.Run(async () =>
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = db.User, SslMode = SslMode.None }, CancellationToken.None);
        var random = new Random(16);
        long next = Rows + 1;
        var statements = 0;
        while (!ct.IsCancellationRequested)
        {
            var r = random.Next(1, Rows + 1);
            string sql;
            switch (random.Next(4))
            {
                case 0:
                    sql = $"DELETE FROM {Database}.t WHERE id = {r}";
                    lock (touched) touched.Add(r);
                    break;
                case 1:
                    sql = $"INSERT INTO {Database}.t VALUES ({next++}, {random.Next()}, 'new')";
                    break;
                case 2:
                    sql = $"UPDATE {Database}.t SET v = v + 1, s = CONCAT('u', {random.Next(1000)}) WHERE id BETWEEN {r} AND {r + 3}";
                    lock (touched) for (var i = r; i <= r + 3; i++) touched.Add(i);
                    break;
                default:
                    sql = $"UPDATE {Database}.t SET id = {next++} WHERE id = {r}"; // a key change: the row moves past the snapshot's end
                    lock (touched) touched.Add(r);
                    break;
            }
            await c.ExecuteAsync(sql, CancellationToken.None);
            statements++;
            await Task.Delay(2, CancellationToken.None);
        }
        return statements;
    }, CancellationToken.None);

    private static long Id(ChangeEvent e) => Convert.ToInt64(e.Current!["id"], CultureInfo.InvariantCulture);

    private (string File, long Position) MasterStatus()
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return (f[0], long.Parse(f[1], CultureInfo.InvariantCulture));
    }

    private static bool Reached(JsonElement cp, (string File, long Position) end) =>
        cp.GetProperty("file").GetString() is { } file && (string.CompareOrdinal(file, end.File) > 0 || file == end.File && cp.GetProperty("position").GetInt64() >= end.Position);

    private static bool HasSnapshot(JsonElement cp) => cp.TryGetProperty("snapshot", out var s) && s.ValueKind != JsonValueKind.Null;

    /// <summary>The rows of the snapshot's table the checkpoint file says were delivered (0: none yet).</summary>
    private static long CheckpointedSnapshotRows(string path) =>
        Read(path) is { } cp && HasSnapshot(cp) ? cp.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Sum(t => t.GetProperty("rows").GetInt64()) : 0;

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

    private static string Tail(string s, int lines) => string.Join('\n', s.Split('\n').TakeLast(lines));

    [GeneratedRegex(@"snapshot of crash_snap\.t \(about -?\d+ rows, chunk key id\) from row (\d+)")]
    private static partial Regex TableStarted();

    /// <summary>Counts the lines of a file being appended to, reading only what was added since the last call.</summary>
    private sealed class LineCounter(string path) : IDisposable
    {
        private FileStream? _file;
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _count;

        public int Count()
        {
            if (_file is null)
            {
                if (!File.Exists(path)) return 0;
                _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            int n;
            while ((n = _file.Read(_buffer, 0, _buffer.Length)) > 0) _count += _buffer.AsSpan(0, n).Count((byte)'\n');
            return _count;
        }

        public void Dispose() => _file?.Dispose();
    }
}
