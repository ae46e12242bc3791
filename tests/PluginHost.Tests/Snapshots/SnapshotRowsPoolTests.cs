using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Snapshots;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// A pipeline's chunks keep their values in pooled arrays that go back once every row handed on was taken: never
/// before (a slice still to be written reads its values), whichever way the rows are taken (JSON lines in parts, sdk
/// events, both), only the rows the window let through counted, and chunks read on reused arrays give the same lines.
/// </summary>
[Trait("Category", "Integration")]
[Collection(MariaDbCollection.Name)]
public sealed class SnapshotRowsPoolTests(MariaDbServer db) : IDisposable
{
    private const string Db = "snap_pool";
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-rowpool-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private void CreateTable()
    {
        db.Sql($"CREATE DATABASE IF NOT EXISTS {Db};");
        db.Sql("DROP TABLE IF EXISTS t; CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(60), d DECIMAL(9,2), ts TIMESTAMP(3) NULL); " +
               "INSERT INTO t SELECT seq, IF(seq % 5 = 0, NULL, CONCAT('text ', seq, REPEAT('x', seq % 40))), seq / 7, " +
               "'2026-03-01' + INTERVAL seq SECOND FROM seq_1_to_3000;", Db);
    }

    [Fact]
    public async Task Pooled_rows_go_back_only_once_every_row_handed_on_was_taken_and_read_back_the_same()
    {
        CreateTable();
        await using var pooled = await ChunkReader.OpenAsync(Repl.Connection(db), new ChunkReaderOptions { PooledRows = true });
        await using var plain = await ChunkReader.OpenAsync(Repl.Connection(db));
        var table = await pooled.DescribeAsync(Db, "t");
        var plainTable = await plain.DescribeAsync(Db, "t");
        SnapshotKey? after = null, plainAfter = null;
        for (var chunk = 0; chunk < 3; chunk++)
        {
            // Chunk after chunk, as a pipeline reads them: each on the arrays the last one gave back.
            var (rows, result) = await pooled.ReadRowsAsync(table, after, null, 1000);
            var (expected, plainResult) = await plain.ReadRowsAsync(plainTable, plainAfter, null, 1000);
            (after, plainAfter) = (result.LastKey, plainResult.LastKey);
            Assert.Equal(1000, rows.Count);

            // Two slices, as the reader hands them on; the first written as lines in two parts, the second as events.
            var first = new SnapshotSlice(rows, null, 0, 600, "f", 4, "snapshot:t:" + chunk);
            var second = new SnapshotSlice(rows, null, 600, 400, "f", 4, "snapshot:t:" + chunk);
            var lines = await WriteLinesAsync("pooled" + chunk, first.Lines(0, 250), first.Lines(250, 350));
            Assert.False(rows.Released); // the second slice is still to be written
            var events = new List<ChangeEvent>();
            second.AddEvents(events);
            Assert.True(rows.Released);

            var plainFirst = new SnapshotSlice(expected, null, 0, 600, "f", 4, "snapshot:t:" + chunk);
            var plainSecond = new SnapshotSlice(expected, null, 600, 400, "f", 4, "snapshot:t:" + chunk);
            // Each read stamps its events with the second it ran in, and the two reads may straddle one (a CI run did):
            // the pooled read's stamp stands for the plain one's in what is compared.
            var (stamp, plainStamp) = (Stamp(rows.Timestamp), Stamp(expected.Timestamp));
            Assert.Equal((await WriteLinesAsync("plain" + chunk, plainFirst.Lines(0, 600))).Select(l => l.Replace(plainStamp, stamp)), lines);
            var plainEvents = new List<ChangeEvent>();
            plainSecond.AddEvents(plainEvents);
            foreach (var e in plainEvents) e.Timestamp = rows.Timestamp;
            Assert.Equal(plainEvents.Select(ChangeEventJson.Serialize), events.Select(ChangeEventJson.Serialize));
            Assert.False(expected.Released); // rows not read for a pipeline are never given back
        }
    }

    [Fact]
    public async Task Only_the_rows_the_window_let_through_are_counted_and_a_row_taken_twice_counts_once()
    {
        CreateTable();
        await using var pooled = await ChunkReader.OpenAsync(Repl.Connection(db), new ChunkReaderOptions { PooledRows = true });
        var table = await pooled.DescribeAsync(Db, "t");
        var (rows, _) = await pooled.ReadRowsAsync(table, null, null, 500);
        var delivered = Enumerable.Range(0, 500).Where(i => i % 4 != 0).ToList(); // the stream changed every fourth row since
        var slice = new SnapshotSlice(rows, delivered, 0, delivered.Count, "f", 4, "snapshot:t:0");
        // Part written as lines, then (a transform swapped in at the boundary) the whole slice made events: the rows
        // already written count once.
        await WriteLinesAsync("part", slice.Lines(0, 100));
        Assert.False(rows.Released);
        var events = new List<ChangeEvent>();
        slice.AddEvents(events);
        Assert.True(rows.Released);
        Assert.Equal(delivered.Select(i => (long)(i + 1)), events.Select(Kit.Id));
    }

    /// <summary>An event's <c>ts</c> as the JSON has it.</summary>
    private static string Stamp(DateTimeOffset at) => "\"ts\":" + System.Text.Json.JsonSerializer.Serialize(at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"));

    private async Task<string[]> WriteLinesAsync(string name, params IEventLines[] parts)
    {
        var path = Path.Combine(_dir, name + ".jsonl");
        await using (var sink = new FileSink(path, fsync: false))
            foreach (var part in parts)
                await sink.SendLinesAsync(part, default);
        return File.ReadAllLines(path);
    }
}
