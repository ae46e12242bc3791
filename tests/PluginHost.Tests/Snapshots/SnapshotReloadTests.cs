using System.Globalization;
using PluginHost.Binlog.Protocol;
using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// What users do while an initial snapshot runs: reload the transform and swap the sink several times (nothing lost,
/// nothing repeated, each event carries the version in force, the replay equals the table), and stop the pipeline
/// gracefully and start it again (it continues at the next chunk and repeats nothing).
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotReloadTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private const int Rows = 50_000;
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-snapreload-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Out(string name) => Path.Combine(_dir, name);

    /// <summary>A file sink that takes a while per batch, so the snapshot lasts long enough to be reloaded and stopped in.</summary>
    private FlakySink SlowFile(string name) => new(new FileSink(Out(name))) { WriteDelay = TimeSpan.FromMilliseconds(10) };

    private RunningPipeline Pipeline(string yaml, ISink sink, IEventTransform? transform = null)
    {
        var config = Kit.Config(_dir, yaml);
        return new RunningPipeline(config.Pipelines[0], sink, new FileCheckpointStore(config.StateDirectory), output, transform);
    }

    private void CreateTable(string database)
    {
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}; CREATE TABLE {database}.t (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40) NOT NULL);");
        for (var from = 1; from <= Rows; from += 10_000)
            db.Sql($"INSERT INTO t SELECT seq, seq * 10, CONCAT('row ', seq) FROM seq_{from}_to_{from + 9_999};", database);
    }

    [Fact]
    public async Task Transform_reloads_and_sink_swaps_during_a_snapshot_lose_nothing_and_repeat_nothing()
    {
        const string database = "snap_reload";
        CreateTable(database);
        var yaml = Kit.PipelineYaml(db, "reload", "latest", $$"""{ include: ["{{database}}.*"] }""", Out("sink-1.jsonl"),
            extra: "    snapshot: { mode: initial, chunk_size: 1000 }\n    batch_size: 500");
        var files = new List<string> { "sink-1.jsonl" };
        await using var p = Pipeline(yaml, SlowFile("sink-1.jsonl"), new TxStampTransform("v1")).Start();
        using var writing = new CancellationTokenSource();
        var touched = new HashSet<long>();
        var writer = WriteAsync(database, touched, writing.Token);
        var swapsDuringSnapshot = 0;
        for (var version = 2; version <= 7; version++)
        {
            var at = (version - 1) * 6000;
            await Kit.WaitUntil(() => files.Sum(f => Kit.Lines(Out(f)).Count) >= at || p.Status.Snapshot is { Active: false, Tables.Count: > 0 },
                $"{at} events", TimeSpan.FromSeconds(120));
            if (p.Status.Snapshot is { Active: true }) swapsDuringSnapshot++;
            p.Runner.SwapTransform(new TxStampTransform("v" + version));
            if (version % 2 == 0)
            {
                var file = $"sink-{files.Count + 1}.jsonl";
                await p.Runner.SwapSinkAsync(SlowFile(file)).WaitAsync(TimeSpan.FromSeconds(30));
                files.Add(file);
            }
        }
        output.WriteLine($"{swapsDuringSnapshot} of 6 reloads while the snapshot ran; sinks: {string.Join(", ", files)}");
        Assert.True(swapsDuringSnapshot >= 4, $"only {swapsDuringSnapshot} reloads landed during the snapshot");
        await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false, Tables.Count: > 0 }, "the snapshot to end", TimeSpan.FromSeconds(180));
        writing.Cancel();
        var statements = await writer;
        var end = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => p.Status.Checkpoint is { } cp && cp.File == end.File && cp.Position >= end.Position, $"the checkpoint to reach {end}", TimeSpan.FromSeconds(60));
        await p.StopAsync();

        // In the order the consumer got them: each sink's file, in the order the sinks were swapped in.
        var perFile = files.Select(f => (File: f, Lines: Kit.Lines(Out(f)))).ToList();
        var lines = perFile.SelectMany(x => x.Lines).ToList();
        var events = lines.Select(ChangeEventJson.Parse).ToList();
        var reads = events.Where(e => e.Op == ChangeOperation.Read).GroupBy(Kit.Id).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"writer: {statements} statements; {string.Join(", ", perFile.Select(x => $"{x.File}: {x.Lines.Count}"))}; {reads.Count} rows read");
        Assert.True(perFile.Count(x => x.Lines.Any(l => l.StartsWith("{\"op\":\"read\"", StringComparison.Ordinal))) >= 3, "snapshot rows went to fewer than 3 sinks");
        // Nothing repeated: no row read twice, no change delivered twice (a change twice is the same line twice).
        Assert.All(reads, r => Assert.Equal(1, r.Value));
        Assert.Equal(0, lines.Where(l => !l.StartsWith("{\"op\":\"read\"", StringComparison.Ordinal)).GroupBy(l => l, StringComparer.Ordinal).Count(g => g.Count() > 1));
        // Nothing lost: every row the writer left alone was read; the replay equals the table.
        var unread = Enumerable.Range(1, Rows).Select(i => (long)i).Where(id => !touched.Contains(id) && !reads.ContainsKey(id)).Take(5).ToList();
        Assert.True(unread.Count == 0, $"rows never read: {string.Join(", ", unread)}");
        SnapshotReplay.AssertEqualsTable(db, database, events);
        // In stream order across the sinks: snapshot rows carry the position of the boundary they went in at.
        for (var i = 1; i < events.Count; i++)
            Assert.True(string.CompareOrdinal(events[i - 1].File, events[i].File) < 0 || events[i - 1].File == events[i].File && events[i - 1].Position <= events[i].Position,
                $"event {i} ({Kit.Describe(events[i])} at {events[i].File}:{events[i].Position}) before {events[i - 1].File}:{events[i - 1].Position}");
        // Each chunk or transaction saw one version; once a version is in force no event carries an older one.
        var versions = events.Select(e => (string)e.Extra["version"]!).ToList();
        Assert.All(events.GroupBy(e => (string)e.Extra["tx"]!), g => Assert.Single(g.Select(e => e.Extra["version"]).Distinct()));
        Assert.Equal(versions.Order(StringComparer.Ordinal), versions);
        Assert.True(events.Where(e => e.Op == ChangeOperation.Read).Select(e => (string)e.Extra["version"]!).Distinct().Count() >= 4, "snapshot rows carry fewer than 4 versions");
        Assert.Equal("v7", versions[^1]);
        Assert.Equal("v7", p.Status.TransformVersion);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(5000)] // a chunk bigger than the reader's queue chunks (1024 rows): put in by several pushes
    public async Task A_graceful_stop_in_the_middle_of_a_snapshot_then_a_restart_repeats_nothing(int chunkSize)
    {
        var database = "snap_restart_" + chunkSize;
        CreateTable(database);
        var yaml = Kit.PipelineYaml(db, "restart", "latest", $$"""{ include: ["{{database}}.*"] }""", Out("out.jsonl"),
            extra: $"    snapshot: {{ mode: initial, chunk_size: {chunkSize} }}\n    batch_size: 500");
        var stops = new List<long>();
        for (var run = 1; run <= 3; run++)
        {
            await using var p = Pipeline(yaml, SlowFile("out.jsonl")).Start();
            if (run < 3)
            {
                var at = run * 15_000;
                await Kit.WaitUntil(() => Kit.Lines(Out("out.jsonl")).Count >= at, $"{at} rows", TimeSpan.FromSeconds(120));
                await p.StopAsync();
                var progress = p.Status.Checkpoint!.Snapshot!.Tables.Single();
                var inFile = Kit.Lines(Out("out.jsonl")).Count;
                output.WriteLine($"stopped after run {run}: {inFile} rows in the file, checkpoint {progress}: {progress.Rows} rows, {progress.Chunks} chunks, last key {progress.LastKey}");
                // The stop finished the chunk being put in: the checkpoint holds every row delivered, at a chunk's end (chunks are
                // sized by bytes too, so their row counts vary).
                Assert.False(progress.Done);
                Assert.Equal(inFile, progress.Rows);
                stops.Add(progress.Rows);
            }
            else
            {
                await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false, Tables.Count: > 0 }, "the snapshot to end", TimeSpan.FromSeconds(180));
                await Kit.WaitUntil(() => p.Status.Checkpoint is { Snapshot: null }, "the checkpoint without the snapshot");
                await p.StopAsync();
            }
        }
        var ids = Kit.Events(Out("out.jsonl")).Select(Kit.Id).ToList();
        Assert.Equal(Rows, ids.Count);
        Assert.Equal(Enumerable.Range(1, Rows).Select(i => (long)i), ids.Order());
        Assert.True(stops[1] > stops[0]);
    }

    /// <summary>Updates, deletes, inserts and re-keys rows one statement at a time until cancelled; notes the original ids it touched.</summary>
    private Task<int> WriteAsync(string database, HashSet<long> touched, CancellationToken ct) => Task.Run(async () =>
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = db.User, SslMode = SslMode.None }, CancellationToken.None);
        var random = new Random(2);
        long next = Rows + 1;
        var statements = 0;
        while (!ct.IsCancellationRequested)
        {
            var r = random.Next(1, Rows + 1);
            var sql = (random.Next(4)) switch
            {
                0 => $"DELETE FROM {database}.t WHERE id = {r}",
                1 => $"INSERT INTO {database}.t VALUES ({next++}, {random.Next()}, 'new')",
                2 => $"UPDATE {database}.t SET v = v + 1, s = CONCAT('u', {random.Next(1000)}) WHERE id BETWEEN {r} AND {r + 3}",
                _ => $"UPDATE {database}.t SET id = {next++} WHERE id = {r}",
            };
            lock (touched) for (var i = r; i <= r + 3; i++) touched.Add(i);
            await c.ExecuteAsync(sql, CancellationToken.None);
            statements++;
            await Task.Delay(5, CancellationToken.None);
        }
        return statements;
    }, CancellationToken.None);
}

/// <summary>A transform version that stamps each event with its version and its transaction (a snapshot chunk: <c>snapshot:db.table:N</c>).</summary>
internal sealed class TxStampTransform(string version) : IEventTransform
{
    public string Version => version;

    public void Apply(ChangeEvent change, List<ChangeEvent> output)
    {
        change.Extra["version"] = version;
        change.Extra["tx"] = change.TransactionId;
        output.Add(change);
    }
}

/// <summary>The consumer's replay of a table's events compared with <c>SELECT</c> (columns id, v, s).</summary>
internal static class SnapshotReplay
{
    /// <summary>Applies the events in order (read, insert, update: set; delete: remove) and compares with the table.</summary>
    public static void AssertEqualsTable(MariaDbServer db, string database, IEnumerable<ChangeEvent> events)
    {
        var replay = new SortedDictionary<long, string>();
        foreach (var e in events.Where(e => e.Database == database && e.Table == "t"))
        {
            if (e.Op == ChangeOperation.Delete) replay.Remove(Kit.Id(e));
            else
            {
                if (e.Op == ChangeOperation.Update && Convert.ToInt64(e.Before!["id"], CultureInfo.InvariantCulture) is var before && before != Kit.Id(e)) replay.Remove(before);
                replay[Kit.Id(e)] = $"{e.After!["v"]}|{e.After!["s"]}";
            }
        }
        var table = new SortedDictionary<long, string>();
        foreach (var line in db.Sql($"SELECT id, v, s FROM {database}.t;").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            table[long.Parse(f[0], CultureInfo.InvariantCulture)] = $"{f[1]}|{f[2]}";
        }
        var missing = table.Keys.Except(replay.Keys).Take(5).ToList();
        var extra = replay.Keys.Except(table.Keys).Take(5).ToList();
        var different = table.Where(kv => replay.TryGetValue(kv.Key, out var a) && a != kv.Value).Take(5).Select(kv => $"{kv.Key}: table {kv.Value}, replay {replay[kv.Key]}").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"replay != table ({table.Count} rows vs {replay.Count}): missing {string.Join(",", missing)}; extra {string.Join(",", extra)}; different {string.Join("; ", different)}");
    }
}
