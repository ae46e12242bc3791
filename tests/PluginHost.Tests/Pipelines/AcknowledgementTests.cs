using System.Collections.Concurrent;
using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// The acknowledgement protocol on the real MariaDB: a sink that implements <see cref="IAcknowledgingSink"/> is handed
/// batches while earlier ones are owed, its batches may be acknowledged in any order, and the checkpoint is the
/// low-water mark — the end of the last transaction all of whose events (and all before them) were acknowledged.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AcknowledgementTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-ack-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A sink whose acknowledgements the test gives, batch by batch, in any order.</summary>
    private sealed class ManualAckSink : IAcknowledgingSink
    {
        public ConcurrentQueue<(IReadOnlyList<ChangeEvent> Batch, TaskCompletionSource Ack)> Batches { get; } = new();

        public ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
        {
            var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Batches.Enqueue((batch.ToList(), ack));
            return ValueTask.FromResult(ack.Task);
        }

        public (IReadOnlyList<ChangeEvent> Batch, TaskCompletionSource Ack) this[int i] => Batches.ElementAt(i);

        public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the host must use SendAsync with an acknowledging sink");

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Batches_flow_while_owed_and_the_checkpoint_is_the_low_water_mark()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_ack; CREATE DATABASE pt_ack; CREATE TABLE pt_ack.t (id INT PRIMARY KEY, v INT);");
        var start = Kit.MasterStatus(db);
        var config = Kit.Config(_dir, Kit.PipelineYaml(db, "ack", Kit.FileStart(start), """{ include: ["pt_ack.*"] }""", Path.Combine(_dir, "unused.jsonl")));
        var sink = new ManualAckSink();
        await using var p = new RunningPipeline(config.Pipelines[0], sink, new FileCheckpointStore(config.StateDirectory), output).Start();
        await p.WaitRunning();

        // Three transactions, each its own batch: all three are handed over although none is acknowledged yet.
        var ends = new List<(string File, long Position)>();
        for (var i = 1; i <= 3; i++)
        {
            db.Sql($"INSERT INTO t VALUES ({i}, 0);", "pt_ack");
            ends.Add(Kit.MasterStatus(db));
            await Kit.WaitUntil(() => sink.Batches.Count >= i, $"batch {i} handed to the sink while {i - 1} are owed");
        }
        Assert.Equal([1L, 2L, 3L], sink.Batches.SelectMany(b => b.Batch).Select(Kit.Id));

        // The later two acknowledged first: nothing is checkpointable while the first is owed.
        sink[2].Ack.SetResult();
        sink[1].Ack.SetResult();
        await Task.Delay(500);
        Assert.True((p.Status.Checkpoint?.EventsDelivered ?? 0) == 0, $"checkpoint {p.Status.Checkpoint} passed the owed first batch");
        Assert.Equal(0, p.Status.EventsOut);

        // The first one: the checkpoint jumps to the end of the third transaction.
        sink[0].Ack.SetResult();
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == ends[2].Position, $"the checkpoint to reach {ends[2]}");
        Assert.Equal(3, p.Status.Checkpoint!.EventsDelivered);
        Assert.Equal(3, p.Status.EventsOut);
        Assert.Equal(ends[2].File, (await new FileCheckpointStore(config.StateDirectory).LoadAsync("ack", default))!.File);

        // A failed acknowledgement: the pipeline starts over from its checkpoint and hands the events again.
        // One batch each: two commits close together may be read as one batch, so the second waits for the first's.
        db.Sql("INSERT INTO t VALUES (4, 0);", "pt_ack");
        await Kit.WaitUntil(() => sink.Batches.Count >= 4, "batch 4");
        db.Sql("INSERT INTO t VALUES (5, 0);", "pt_ack");
        var last = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => sink.Batches.Count >= 5, "batch 5");
        sink[4].Ack.SetResult();
        sink[3].Ack.SetException(new IOException("receiver gone"));
        await Kit.WaitUntil(() => sink.Batches.Skip(5).Sum(b => b.Batch.Count) >= 2, "rows 4 and 5 handed over again after the failure");
        Assert.Equal(3, p.Status.Checkpoint!.EventsDelivered); // nothing past the failed batch was checkpointed
        Assert.Equal([4L, 5L], sink.Batches.Skip(5).SelectMany(b => b.Batch).Select(Kit.Id));
        Assert.True(p.Status.SinkRetries >= 1);
        foreach (var (_, ack) in sink.Batches.Skip(5)) ack.SetResult();
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == last.Position, $"the checkpoint to reach {last}");
        Assert.Equal(5, p.Status.Checkpoint!.EventsDelivered);
        Assert.Equal(PipelineState.Running, p.Status.State);
    }

    [Fact]
    public async Task The_ledger_gives_room_back_in_order_and_lets_an_oversized_batch_through_alone()
    {
        var ledger = new InFlightLedger(maxEvents: 10, maxBytes: 1000);
        var first = new InFlightBatch { Acknowledged = Task.CompletedTask, Events = 25, Bytes = 100 };
        Assert.True(ledger.WaitForRoomAsync(default).IsCompleted); // empty: even a batch over the whole budget passes
        ledger.Add(first);
        Assert.True(ledger.Full);
        var waiting = ledger.WaitForRoomAsync(default).AsTask();
        Assert.False(waiting.IsCompleted);
        var second = new InFlightBatch { Acknowledged = Task.CompletedTask, Events = 1, Bytes = 1 };
        ledger.Add(second);
        Assert.Throws<InvalidOperationException>(() => ledger.Remove(second)); // only the oldest comes off
        ledger.Remove(first);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, ledger.Events);
        Assert.Same(second, ledger.Oldest);
    }
}
