using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// A snapshot of a table of 1 MB rows with the default chunk_size (10,000 rows: the whole table in one chunk if chunks
/// were cut by rows alone) stays within the pipeline's memory budget: chunks are sized by their rows' bytes.
/// </summary>
[Collection(ManagedMemoryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-snapshot-memory-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_table_of_one_megabyte_rows_is_read_within_the_memory_budget()
    {
        using var db = new MariaDbServer(extraArgs: null);
        const int rows = 120;
        db.Sql("CREATE DATABASE snap_wide; CREATE TABLE snap_wide.t (id INT PRIMARY KEY, body LONGTEXT NOT NULL);");
        for (var i = 1; i <= rows; i += 10)
            db.Sql($"INSERT INTO t SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000000) FROM seq_{i}_to_{i + 9};", "snap_wide");
        var path = Path.Combine(_dir, "wide.jsonl");
        var config = Kit.Config(_dir, Kit.PipelineYaml(db, "wide", "latest", """{ include: ["snap_wide.*"] }""", path,
            extra: "    snapshot: { mode: initial_only }\n    in_flight_bytes: 16777216\n    batch_size: 8"));
        var def = config.Pipelines[0];
        // A slow sink: the snapshot can read far ahead of it only if nothing bounds it.
        var sink = new FlakySink(new FileSink(path)) { WriteDelay = TimeSpan.FromMilliseconds(30) };
        var baseline = ManagedMemory.Settled();
        long peak = 0;
        await using (var p = new RunningPipeline(def, sink, new FileCheckpointStore(config.StateDirectory), output).Start())
        {
            while (!p.Run.IsCompleted)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline); // live bytes, not garbage
                await Task.Delay(20);
            }
            await p.Run;
            Assert.Equal(PipelineState.Completed, p.Status.State);
            var table = p.Status.Snapshot!.Tables.Single();
            Assert.True(table.Chunks >= rows / 8, $"{table.Chunks} chunks for {rows} rows of 1 MB: chunks are not sized by bytes");
        }
        var events = Kit.Events(path);
        Assert.Equal(rows, events.Count(e => e.Op == ChangeOperation.Read));
        Assert.All(events, e => Assert.Equal(1_000_000, ((string)e.After!["body"]!).Length));
        // The whole table as strings is 240 MB; the budget: in_flight_bytes 16 MiB + queue_bytes 2 MiB + two chunks of
        // 8 MiB (one being put in, the next read meanwhile) + the sink's JSON buffers and the row being read (each row is 2 MB as a string, 1 MB on the wire).
        output.WriteLine($"peak live managed growth {peak / (1 << 20)} MiB");
        Assert.True(peak < 100L << 20, $"the snapshot held {peak / (1 << 20)} MiB at its peak");
    }
}
