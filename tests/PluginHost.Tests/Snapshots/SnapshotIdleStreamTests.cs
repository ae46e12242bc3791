using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// A snapshot read while the binlog is idle: each chunk the coordinator hands over must wake the reader, which waits
/// for the next binlog event meanwhile. A hand-over missed by the reader waits for the server's next heartbeat (here
/// a minute), so a snapshot of hundreds of chunks shows any missed one as a run far slower than its reads.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotIdleStreamTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-snapshot-idle-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Every_chunk_of_a_snapshot_goes_in_at_once_while_the_binlog_is_idle()
    {
        var (elapsed, events) = await SnapshotAsync("snap_idle", openDelayed: false);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"the snapshot took {elapsed.TotalSeconds:F1} s: a chunk waited for the binlog heartbeat (60 s)");
        Assert.Equal(4000, events.Count);
        Assert.All(events, e => Assert.Equal(ChangeOperation.Read, e.Op));
    }

    /// <summary>
    /// 3,000 chunks of one row: a chunk handed over between the reader's look for one and its wait was missed until the
    /// next heartbeat (the reader took the wake-up signal after looking); seen once in a CI run with chunks of 10.
    /// </summary>
    [Fact]
    public async Task Thousands_of_one_row_chunks_on_an_idle_binlog_never_wait_for_a_heartbeat()
    {
        var (elapsed, events) = await SnapshotAsync("snap_idle_ones", openDelayed: false, chunkSize: 1, rows: 3000);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"the snapshot took {elapsed.TotalSeconds:F1} s: a chunk waited for the binlog heartbeat (60 s)");
        Assert.Equal(3000, events.Count);
    }

    /// <summary>
    /// The first chunk handed over after the reader has read the events a binlog dump opens with (rotate, format
    /// description: the latter carries its own place near the file's start) and waits for the next one.
    /// </summary>
    [Fact]
    public async Task A_first_chunk_read_after_the_stream_opened_goes_in_without_waiting_for_a_binlog_event()
    {
        var (elapsed, events) = await SnapshotAsync("snap_idle_late", openDelayed: true);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"the snapshot took {elapsed.TotalSeconds:F1} s: a chunk waited for the binlog heartbeat (60 s)");
        Assert.Equal(4000, events.Count);
    }

    /// <summary>An initial_only snapshot of 4,000 rows in chunks of 10 (about 400) on an idle server, heartbeat 60 s.</summary>
    private async Task<(TimeSpan Elapsed, List<ChangeEvent> Events)> SnapshotAsync(string database, bool openDelayed, int chunkSize = 10, int rows = 4000)
    {
        db.Sql($"CREATE DATABASE IF NOT EXISTS {database};");
        db.Sql("DROP TABLE IF EXISTS t; CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20) NOT NULL); INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_" + rows + ";", database);
        var path = Path.Combine(_dir, database + ".jsonl");
        var yaml = Kit.PipelineYaml(db, database, "latest", $$"""{ include: ["{{database}}.*"] }""", path, extra: "    snapshot: { mode: initial_only, chunk_size: " + chunkSize + " }")
            .Replace("heartbeat: 1s", "heartbeat: 60s", StringComparison.Ordinal);
        var config = Kit.Config(_dir, yaml);
        var def = config.Pipelines[0];
        var status = new PipelineStatus(def.Name);
        await using var sink = new FileSink(path);
        var runner = new PipelineRunner(def, sink, new FileCheckpointStore(config.StateDirectory), new RecordingLogger(output, def.Name, LogLevel.Debug), status)
        {
            SnapshotSource = async ct =>
            {
                // Late: the reader has opened the stream and read what the server sends first, and waits for more.
                if (openDelayed)
                {
                    while (status.State != PipelineState.Running) await Task.Delay(10, ct);
                    await Task.Delay(500, ct);
                }
                return await ChunkReaderSource.OpenAsync(def.Connection, def.Snapshot.Consistency, ct);
            },
        };
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() => runner.RunAsync(stop.Token));
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally
        {
            stop.Cancel();
        }
        output.WriteLine($"the snapshot took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(PipelineState.Completed, status.State);
        return (clock.Elapsed, Kit.Events(path));
    }
}
