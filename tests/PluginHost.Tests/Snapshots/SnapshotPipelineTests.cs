using System.Globalization;
using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// Snapshots in a running pipeline on the real MariaDB with the real file sink: the initial snapshot while a writer
/// changes the table as fast as it can (the replay equals the table), both placements (exact position, watermarks),
/// on demand while another table streams, initial_only, and when_needed after the checkpoint's binlog is purged.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotPipelineTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-snapshot-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Out(string name) => Path.Combine(_dir, name);

    private RunningPipeline Pipeline(string yaml)
    {
        var config = Kit.Config(_dir, yaml);
        var def = config.Pipelines[0];
        return new RunningPipeline(def, new FileSink(def.SinkSettings.GetProperty("path").GetString()!), new FileCheckpointStore(config.StateDirectory), output);
    }

    private static void CreateTable(MariaDbServer server, string database, string table, int rows)
    {
        server.Sql($"""
            CREATE DATABASE IF NOT EXISTS {database};
            DROP TABLE IF EXISTS {database}.{table};
            CREATE TABLE {database}.{table} (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(40) NOT NULL);
            """);
        for (var from = 1; from <= rows; from += 5000)
        {
            var to = Math.Min(rows, from + 4999);
            server.Sql($"INSERT INTO {table} SELECT seq, seq * 10, CONCAT('row ', seq) FROM seq_{from}_to_{to};", database);
        }
    }

    /// <summary>The table as the consumer builds it by applying the events in order (read, insert, update: set; delete: remove).</summary>
    private static SortedDictionary<long, string> Replay(IEnumerable<ChangeEvent> events, string table)
    {
        var state = new SortedDictionary<long, string>();
        foreach (var e in events.Where(e => e.Table == table))
        {
            if (e.Op == ChangeOperation.Delete) state.Remove(Kit.Id(e));
            else
            {
                if (e.Op == ChangeOperation.Update && Kit.Id(e) != Convert.ToInt64(e.Before!["id"], CultureInfo.InvariantCulture))
                    state.Remove(Convert.ToInt64(e.Before!["id"], CultureInfo.InvariantCulture));
                state[Kit.Id(e)] = $"{e.After!["v"]}|{e.After!["s"]}";
            }
        }
        return state;
    }

    private static SortedDictionary<long, string> Select(MariaDbServer server, string database, string table)
    {
        var state = new SortedDictionary<long, string>();
        foreach (var line in server.Sql($"SELECT id, v, s FROM {database}.{table};").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            state[long.Parse(f[0], CultureInfo.InvariantCulture)] = $"{f[1]}|{f[2]}";
        }
        return state;
    }

    private static void AssertSame(SortedDictionary<long, string> expected, SortedDictionary<long, string> actual)
    {
        var missing = expected.Keys.Except(actual.Keys).Take(5).ToList();
        var extra = actual.Keys.Except(expected.Keys).Take(5).ToList();
        var different = expected.Where(kv => actual.TryGetValue(kv.Key, out var a) && a != kv.Value).Take(5).Select(kv => $"{kv.Key}: table {kv.Value}, replay {actual[kv.Key]}").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"replay != table ({expected.Count} rows vs {actual.Count}): missing {string.Join(",", missing)}; extra {string.Join(",", extra)}; different {string.Join("; ", different)}");
    }

    /// <summary>Updates, deletes and inserts rows of the table as fast as one client can until cancelled.</summary>
    private static async Task<int> WriteAsync(MariaDbServer server, string database, string table, int rows, CancellationToken ct)
    {
        var random = new Random(42);
        var next = rows + 1;
        var statements = 0;
        while (!ct.IsCancellationRequested)
        {
            var batch = string.Join("\n", Enumerable.Range(0, 8).Select(_ => (random.Next(4), random.Next(1, next)) switch
            {
                (0, var id) => $"DELETE FROM {table} WHERE id = {id};",
                (1, _) => $"INSERT INTO {table} VALUES ({next++}, {random.Next()}, 'new');",
                (2, var id) => $"UPDATE {table} SET v = v + 1, s = CONCAT('u', {random.Next(1000)}) WHERE id BETWEEN {id} AND {id + 3};",
                (_, var id) => $"UPDATE {table} SET id = {next++} WHERE id = {id};", // a key change: delete + insert for a consumer
            }));
            await Task.Run(() => server.Sql(batch, database), CancellationToken.None);
            statements += 8;
        }
        return statements;
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("watermark")]
    public async Task An_initial_snapshot_under_a_busy_writer_replays_to_exactly_the_table(string consistency)
    {
        var database = "snap_busy_" + consistency;
        CreateTable(db, database, "t", 20_000);
        await using var p = Pipeline(Kit.PipelineYaml(db, "busy", "latest", $$"""{ include: ["{{database}}.*"] }""", Out("busy.jsonl"),
            extra: $"    snapshot: {{ mode: initial, chunk_size: 500, consistency: {consistency} }}")).Start();
        using var writing = new CancellationTokenSource();
        var writer = WriteAsync(db, database, "t", 20_000, writing.Token);
        await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false, Tables.Count: > 0 } || p.Run.IsCompleted, "the snapshot to end", TimeSpan.FromSeconds(120));
        writing.Cancel();
        var statements = await writer;
        var end = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => p.Status.Checkpoint is { } cp && cp.File == end.File && cp.Position >= end.Position, $"the checkpoint to reach {end}", TimeSpan.FromSeconds(60));
        await p.StopAsync();
        var events = Kit.Events(Out("busy.jsonl"));
        var reads = events.Count(e => e.Op == ChangeOperation.Read);
        output.WriteLine($"{statements} statements during the snapshot; {reads} reads, {events.Count - reads} changes");
        // Watermarks drop every chunk row the stream touched in the second before its read (its newer image was delivered):
        // a snapshot that takes a second or two under this writer, which touches thousands of rows a second, keeps fewer.
        Assert.True(reads > (consistency == "watermark" ? 3_000 : 10_000), $"only {reads} reads");
        Assert.True(events.Count - reads > 100, "the writer's changes did not interleave with the snapshot");
        AssertSame(Select(db, database, "t"), Replay(events, "t"));
        Assert.Null(p.Status.Checkpoint!.Snapshot); // done: the checkpoint no longer carries it
        Assert.Equal(PipelineState.Stopped, p.Status.State);
    }

    [Fact]
    public async Task An_on_demand_snapshot_of_one_table_goes_in_while_another_table_keeps_streaming()
    {
        const string database = "snap_demand";
        CreateTable(db, database, "big", 30_000);
        CreateTable(db, database, "live", 0);
        await using var p = Pipeline(Kit.PipelineYaml(db, "demand", "latest", $$"""{ include: ["{{database}}.*"] }""", Out("demand.jsonl"),
            extra: "    snapshot: { chunk_size: 200 }")).Start();
        await p.WaitRunning();
        Assert.Null(p.Status.Snapshot); // mode never: nothing read at start
        p.Runner.RequestSnapshot([(database, "big")], "id > 1000");
        for (var i = 1; i <= 40 && p.Status.Snapshot is { Active: true }; i++)
        {
            db.Sql($"INSERT INTO live VALUES ({i}, {i}, 'live');", database);
            await Task.Delay(50);
        }
        await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false }, "the snapshot to end", TimeSpan.FromSeconds(120));
        await Kit.WaitUntil(() => Kit.Lines(Out("demand.jsonl")).Count >= 29_000 + 1, "the rows");
        await p.StopAsync();
        var events = Kit.Events(Out("demand.jsonl"));
        var reads = events.Where(e => e.Op == ChangeOperation.Read).ToList();
        Assert.Equal(29_000, reads.Count);
        Assert.All(reads, e => Assert.True(Kit.Id(e) > 1000 && e.Table == "big"));
        Assert.Equal(Enumerable.Range(1001, 29_000).Select(i => (long)i), reads.Select(Kit.Id).Order());
        // The live table's changes were not held back until the snapshot ended: some arrived between its chunks.
        var lastRead = events.FindLastIndex(e => e.Op == ChangeOperation.Read);
        var live = events.Select((e, i) => (e, i)).Where(x => x.e.Table == "live").ToList();
        Assert.NotEmpty(live);
        Assert.Contains(live, x => x.i < lastRead);
        var table = p.Status.Snapshot!.Tables.Single();
        Assert.Equal(29_000, table.Rows);
        Assert.True(table.Chunks >= 145, $"{table.Chunks} chunks");
    }

    [Fact]
    public async Task Initial_only_reads_every_table_then_ends_completed_and_stays_so()
    {
        const string database = "snap_only";
        CreateTable(db, database, "a", 1500);
        CreateTable(db, database, "b", 700);
        db.Sql("DROP TABLE IF EXISTS nokey; CREATE TABLE nokey (v INT, s VARCHAR(10)); INSERT INTO nokey VALUES (1,'x'),(1,'x'),(2,'y');", database);
        var yaml = Kit.PipelineYaml(db, "only", "latest", $$"""{ include: ["{{database}}.*"] }""", Out("only.jsonl"), extra: "    snapshot: { mode: initial_only, chunk_size: 400 }");
        await using (var p = Pipeline(yaml).Start())
        {
            await p.Run.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Equal(PipelineState.Completed, p.Status.State);
            Assert.True(p.Status.Checkpoint!.Snapshot!.Completed);
        }
        var events = Kit.Events(Out("only.jsonl"));
        Assert.All(events, e => Assert.Equal(ChangeOperation.Read, e.Op));
        Assert.Equal(1500, events.Count(e => e.Table == "a"));
        Assert.Equal(700, events.Count(e => e.Table == "b"));
        Assert.Equal(3, events.Count(e => e.Table == "nokey")); // a keyless table: one pass, duplicates and all
        db.Sql("INSERT INTO a VALUES (999999, 1, 'after');", database);
        await using (var again = Pipeline(yaml).Start())
        {
            await again.Run.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(PipelineState.Completed, again.Status.State);
        }
        Assert.Equal(events.Count, Kit.Lines(Out("only.jsonl")).Count); // nothing more was read or streamed
    }

    [Fact]
    public async Task When_needed_reads_the_tables_again_after_the_checkpoint_binlog_was_purged()
    {
        using var server = new MariaDbServer(extraArgs: null);
        CreateTable(server, "snap_purge", "t", 3000);
        var yaml = Kit.PipelineYaml(server, "purge", "latest", """{ include: ["snap_purge.*"] }""", Out("purge.jsonl"), extra: "    snapshot: { mode: when_needed, chunk_size: 1000 }");
        await using (var p = Pipeline(yaml).Start())
        {
            await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false, Tables.Count: > 0 }, "the initial snapshot", TimeSpan.FromSeconds(60));
            server.Sql("INSERT INTO t VALUES (5000, 1, 'streamed');", "snap_purge");
            await Kit.WaitUntil(() => Kit.Lines(Out("purge.jsonl")).Count >= 3001, "3001 events");
            await p.StopAsync();
        }
        Assert.Equal(3000, Kit.Events(Out("purge.jsonl")).Count(e => e.Op == ChangeOperation.Read));
        // While the pipeline is stopped, its binlog goes away: changes it never saw are only in the tables now.
        server.Sql("UPDATE t SET s = 'changed while stopped' WHERE id <= 10; DELETE FROM t WHERE id BETWEEN 11 AND 20;", "snap_purge");
        server.Sql("FLUSH BINARY LOGS;");
        var current = Kit.MasterStatus(server).File;
        await Kit.WaitUntil(() =>
        {
            server.Sql($"PURGE BINARY LOGS TO '{current}';");
            return server.BinlogFiles().All(f => string.CompareOrdinal(Path.GetFileName(f), current) >= 0);
        }, "the old binlog files to be purged");
        File.Delete(Out("purge.jsonl"));
        await using (var p = Pipeline(yaml).Start())
        {
            await Kit.WaitUntil(() => p.Status.Snapshot is { Active: false, Tables.Count: > 0 } && Kit.Lines(Out("purge.jsonl")).Count >= 2991, "the snapshot after the purge",
                TimeSpan.FromSeconds(60));
            Assert.NotEqual(PipelineState.Failed, p.Status.State);
            await p.StopAsync();
        }
        var events = Kit.Events(Out("purge.jsonl"));
        AssertSame(Select(server, "snap_purge", "t"), Replay(events, "t"));
        Assert.Contains(events, e => e.Op == ChangeOperation.Read && (string)e.After!["s"]! == "changed while stopped");
    }
}
