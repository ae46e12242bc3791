using PluginHost.Checkpoints;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// The transform stage (its own thread between the queue and the writer) on the real MariaDB: it transforms while the
/// sink writes, a graceful stop drains it (a restart repeats nothing, transforms nothing twice), and a transform
/// failing under <c>on_error: stop</c> fails the pipeline without its transaction passing the checkpoint.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TransformStageTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-stage-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Out(string name) => Path.Combine(_dir, name);

    private RunningPipeline Pipeline(string yaml, IEventTransform transform, Func<ISink, ISink>? wrap = null)
    {
        var config = Kit.Config(_dir, yaml);
        var def = config.Pipelines[0];
        ISink sink = new FileSink(def.SinkSettings.GetProperty("path").GetString()!);
        return new RunningPipeline(def, wrap?.Invoke(sink) ?? sink, new FileCheckpointStore(config.StateDirectory), output, transform);
    }

    /// <summary>Counts the events it sees by id; throws on <see cref="FailOn"/>.</summary>
    private sealed class CountingTransform : IEventTransform
    {
        public readonly System.Collections.Concurrent.ConcurrentDictionary<long, int> Seen = new();
        public long FailOn = -1;
        public string Version => "counting";

        public void Apply(ChangeEvent change, List<ChangeEvent> output)
        {
            var id = Convert.ToInt64(change.Current!["id"]);
            if (id == FailOn) throw new InvalidOperationException($"no {id}");
            Seen.AddOrUpdate(id, 1, (_, n) => n + 1);
            output.Add(change);
        }
    }

    /// <summary>Holds its first write until the transform has seen an event the write does not hold (or 5 s pass).</summary>
    private sealed class HoldingSink(ISink inner, CountingTransform transform) : ISink
    {
        public volatile bool Overlapped;
        private int _writes;

        public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _writes) == 1)
            {
                var inBatch = batch.Select(e => Convert.ToInt64(e.Current!["id"])).ToHashSet();
                for (var wait = System.Diagnostics.Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(5) && !Overlapped; await Task.Delay(10, cancellationToken))
                    Overlapped = transform.Seen.Keys.Any(id => !inBatch.Contains(id));
            }
            await inner.WriteAsync(batch, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task The_transform_runs_on_later_events_while_the_sink_writes_earlier_ones()
    {
        db.Sql("DROP DATABASE IF EXISTS ts_overlap; CREATE DATABASE ts_overlap; CREATE TABLE ts_overlap.t (id INT PRIMARY KEY, v VARCHAR(8));");
        var start = Kit.MasterStatus(db);
        // A backlog of small transactions, so the reader has queued several chunks before the first write.
        db.Sql(string.Concat(Enumerable.Range(0, 50).Select(tx => $"INSERT INTO t SELECT {tx * 100} + seq, 'x' FROM seq_1_to_100;\n")), "ts_overlap");
        var transform = new CountingTransform();
        HoldingSink? holding = null;
        await using var p = Pipeline(Kit.PipelineYaml(db, "overlap", Kit.FileStart(start), """{ include: ["ts_overlap.*"] }""", Out("overlap.jsonl"),
            extra: "    batch_size: 100"), transform, s => holding = new HoldingSink(s, transform)).Start();
        await Kit.WaitUntil(() => Kit.Lines(Out("overlap.jsonl")).Count >= 5000, "every event");
        Assert.True(holding!.Overlapped, "the transform saw no later event while the sink held its first batch");
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), Kit.Events(Out("overlap.jsonl")).Select(Kit.Id));
        Assert.All(transform.Seen.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_graceful_stop_drains_the_stage_and_a_restart_repeats_nothing_and_transforms_nothing_twice()
    {
        db.Sql("DROP DATABASE IF EXISTS ts_stop; CREATE DATABASE ts_stop; CREATE TABLE ts_stop.t (id INT PRIMARY KEY, v VARCHAR(8));");
        var yaml = Kit.PipelineYaml(db, "stop", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["ts_stop.*"] }""", Out("stop.jsonl"),
            extra: "    batch_size: 64");
        var transform = new CountingTransform();
        const int transactions = 400, rows = 25;
        var p = Pipeline(yaml, transform, s => new FlakySink(s) { WriteDelay = TimeSpan.FromMilliseconds(2) }).Start();
        Task writer;
        try
        {
            await p.WaitRunning();
            writer = Task.Run(() =>
            {
                for (var tx = 0; tx < transactions; tx += 20)
                    db.Sql(string.Concat(Enumerable.Range(tx, 20).Select(t => $"INSERT INTO t SELECT {t * rows} + seq, 'x' FROM seq_1_to_{rows};\n")), "ts_stop");
            });
            await Kit.WaitUntil(() => Kit.Lines(Out("stop.jsonl")).Count >= 1000, "the stream to be under way");
            await p.StopAsync(); // mid-stream: what was read is transformed, delivered and checkpointed
        }
        finally
        {
            await p.DisposeAsync();
        }
        var delivered = Kit.Lines(Out("stop.jsonl")).Count;
        Assert.Equal(0, delivered % rows); // whole transactions
        Assert.Equal(delivered, p.Status.Checkpoint!.EventsDelivered);
        await writer;

        await using var again = Pipeline(yaml, transform).Start();
        await Kit.WaitUntil(() => Kit.Lines(Out("stop.jsonl")).Count >= transactions * rows, "every event after the restart");
        await Task.Delay(300);
        output.WriteLine($"{delivered} events before the stop");
        Assert.Equal(Enumerable.Range(1, transactions * rows).Select(i => (long)i), Kit.Events(Out("stop.jsonl")).Select(Kit.Id));
        Assert.Equal(transactions * rows, transform.Seen.Count);
        Assert.All(transform.Seen.Values, n => Assert.Equal(1, n)); // nothing transformed twice across the stop
    }

    [Fact]
    public async Task A_transform_failing_under_on_error_stop_fails_the_pipeline_and_its_transaction_never_passes_the_checkpoint()
    {
        db.Sql("DROP DATABASE IF EXISTS ts_fail; CREATE DATABASE ts_fail; CREATE TABLE ts_fail.t (id INT PRIMARY KEY, v VARCHAR(8));");
        var start = Kit.MasterStatus(db);
        db.Sql(string.Concat(Enumerable.Range(0, 40).Select(tx => $"INSERT INTO t SELECT {tx * 50} + seq, 'x' FROM seq_1_to_50;\n")), "ts_fail");
        var transform = new CountingTransform { FailOn = 1234 }; // in the 25th transaction (1201-1250)
        await using var p = Pipeline(Kit.PipelineYaml(db, "fail", Kit.FileStart(start), """{ include: ["ts_fail.*"] }""", Out("fail.jsonl"),
            extra: "    on_error: stop\n    batch_size: 64"), transform).Start();
        await Kit.WaitUntil(() => p.Run.IsCompleted, "the pipeline to fail");
        Assert.Equal(PipelineState.Failed, p.Status.State);
        Assert.Contains("no 1234", p.Status.LastError);
        var ids = Kit.Events(Out("fail.jsonl")).Select(Kit.Id).ToList();
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids); // a prefix of the stream, in order
        // Rows of the failing transaction before the failing one may have been handed over (a transaction can span
        // chunks and batches), the failing one and what follows never; the checkpoint stays before the transaction.
        Assert.True(ids.Count < 1234, $"{ids.Count} events delivered");
        Assert.True(ids.Count >= 1000, $"only {ids.Count} events delivered before the failure");
        Assert.True((p.Status.Checkpoint?.EventsDelivered ?? 0) <= 1200, $"the checkpoint passed the failing transaction: {p.Status.Checkpoint?.EventsDelivered}");
    }
}
