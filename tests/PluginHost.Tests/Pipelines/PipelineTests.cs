using PluginHost.Binlog.Protocol;
using PluginHost.Checkpoints;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// Pipelines end to end on the real MariaDB with the real file sink: order and values, filters, several pipelines
/// with one failing, start modes, checkpoint resume, a failing sink, a long transaction, a sink swap, graceful stop.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PipelineTests(MariaDbServer db, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-pipeline-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Out(string name) => Path.Combine(_dir, name);

    private RunningPipeline Pipeline(string yaml, ISink? sink = null, ICheckpointStore? store = null, IEventTransform? transform = null)
    {
        var config = Kit.Config(_dir, yaml);
        var def = config.Pipelines[0];
        return new RunningPipeline(def, sink ?? new FileSink(def.SinkSettings.GetProperty("path").GetString()!),
            store ?? new FileCheckpointStore(config.StateDirectory), output, transform);
    }

    [Fact]
    public async Task Changes_across_tables_arrive_in_commit_order_with_their_values()
    {
        db.Sql("""
            DROP DATABASE IF EXISTS pt_order; CREATE DATABASE pt_order CHARACTER SET utf8mb4;
            CREATE TABLE pt_order.customers (id INT PRIMARY KEY, name VARCHAR(40), balance DECIMAL(10,2), born DATE, seen DATETIME(3));
            CREATE TABLE pt_order.orders (id BIGINT UNSIGNED PRIMARY KEY, customer_id INT, status ENUM('new','paid'), note JSON);
            CREATE DATABASE IF NOT EXISTS pt_other; DROP TABLE IF EXISTS pt_other.t_order; CREATE TABLE pt_other.t_order (id INT PRIMARY KEY);
            """);
        var start = Kit.MasterStatus(db);
        await using var p = Pipeline(Kit.PipelineYaml(db, "order", Kit.FileStart(start), """{ include: ["pt_order.*"] }""", Out("order.jsonl"))).Start();
        db.Sql("""
            INSERT INTO customers VALUES (1, 'Ann', 10.50, '1990-01-02', '2026-01-01 10:00:00.250');
            INSERT INTO orders VALUES (18446744073709551615, 1, 'new', '{"gift": true}');
            INSERT INTO pt_other.t_order VALUES (1);
            BEGIN;
              UPDATE customers SET balance = balance - 5 WHERE id = 1;
              UPDATE orders SET status = 'paid' WHERE customer_id = 1;
              INSERT INTO customers VALUES (2, 'Bob 😀', 0, NULL, NULL);
            COMMIT;
            DELETE FROM orders WHERE customer_id = 1;
            UPDATE customers SET name = 'Anne' WHERE id = 1;
            """, "pt_order");
        var end = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => Kit.Lines(Out("order.jsonl")).Count >= 7, "7 events");
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == end.Position, $"the checkpoint to reach {end}");

        var events = Kit.Events(Out("order.jsonl"));
        Assert.Equal(
            ["insert customers 1", "insert orders 18446744073709551615", "update customers 1", "update orders 18446744073709551615",
             "insert customers 2", "delete orders 18446744073709551615", "update customers 1"],
            events.Select(e => $"{e.Op.ToString().ToLowerInvariant()} {e.Table} {e.Current!["id"]}"));
        Assert.All(events, e => Assert.Equal("pt_order", e.Database));
        Assert.Equal("Ann", events[0].After!["name"]);
        Assert.Equal("10.50", events[0].After!["balance"]);
        Assert.Equal("1990-01-02", events[0].After!["born"]);
        Assert.Equal("2026-01-01 10:00:00.250", events[0].After!["seen"]);
        Assert.Equal(18446744073709551615UL, events[1].After!["id"]);
        Assert.Equal("new", events[1].After!["status"]);
        Assert.Equal("10.50", events[2].Before!["balance"]);
        Assert.Equal("5.50", events[2].After!["balance"]);
        Assert.Equal(("new", "paid"), (events[3].Before!["status"], events[3].After!["status"]));
        Assert.Equal("Bob 😀", events[4].After!["name"]);
        Assert.Null(events[4].After!["born"]);
        Assert.Null(events[5].After);
        Assert.Equal(("Ann", "Anne"), (events[6].Before!["name"], events[6].After!["name"]));

        // One transaction, one GTID; the others each their own; positions grow.
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.Gtid)));
        Assert.Equal(events[2].Gtid, events[3].Gtid);
        Assert.Equal(events[2].Gtid, events[4].Gtid);
        Assert.Equal(5, events.Select(e => e.Gtid).Distinct().Count());
        Assert.All(events, e => Assert.Equal(start.File, e.File));
        Assert.Equal(events.Select(e => e.Position).Order(), events.Select(e => e.Position));

        Assert.Equal(7, p.Status.EventsOut);
        Assert.Equal(1, p.Status.EventsFiltered);
        var saved = await p.Store.LoadAsync("order", CancellationToken.None);
        Assert.Equal((end.File, end.Position), (saved!.File, saved.Position));
        Assert.Equal(7, saved.EventsDelivered);
    }

    [Fact]
    public async Task Two_pipelines_with_their_own_filters_and_sinks_keep_working_while_a_third_fails()
    {
        db.Sql("""
            DROP DATABASE IF EXISTS pt_filter; CREATE DATABASE pt_filter;
            CREATE TABLE pt_filter.t1 (id INT PRIMARY KEY, v INT); CREATE TABLE pt_filter.t2 (id INT PRIMARY KEY, v INT);
            CREATE TABLE pt_filter.t10 (id INT PRIMARY KEY, v INT); CREATE TABLE pt_filter.secret_1 (id INT PRIMARY KEY, v INT);
            """);
        var start = Kit.FileStart(Kit.MasterStatus(db));
        var config = Kit.Config(_dir,
            Kit.PipelineYaml(db, "all-but-secret", start, """{ include: ["pt_filter.*"], exclude: ["pt_filter.secret*"] }""", Out("all.jsonl")),
            Kit.PipelineYaml(db, "short-names", start, """{ include: ["pt_filter.t?"], events: [insert, delete] }""", Out("short.jsonl")),
            Kit.PipelineYaml(db, "wrong-password", start, """{ include: ["*.*"] }""", Out("never.jsonl"), password: "not-the-password"));
        var manager = new PipelineManager(config, PluginHostServiceCollectionExtensions.CreateSinkCatalog(),
            new FileCheckpointStore(config.StateDirectory), new RecordingLoggerProvider(output));
        await manager.StartAsync(CancellationToken.None);
        try
        {
            db.Sql("""
                INSERT INTO t1 VALUES (1, 1); INSERT INTO t2 VALUES (2, 1); INSERT INTO secret_1 VALUES (3, 1);
                UPDATE t1 SET v = 2 WHERE id = 1; DELETE FROM t2 WHERE id = 2; INSERT INTO t10 VALUES (4, 1);
                """, "pt_filter");
            var bad = manager.Find("wrong-password")!;
            await Kit.WaitUntil(() => bad.Status.State == PipelineState.Failed, "the pipeline with the wrong password to fail");
            Assert.Contains("denied", bad.Status.LastError, StringComparison.OrdinalIgnoreCase);
            Assert.NotNull(bad.Status.LastErrorAt);

            await Kit.WaitUntil(() => Kit.Lines(Out("all.jsonl")).Count >= 5 && Kit.Lines(Out("short.jsonl")).Count >= 3, "both working pipelines to deliver");
            // After the failure the others go on.
            db.Sql("INSERT INTO t1 VALUES (5, 1); UPDATE t10 SET v = 9;", "pt_filter");
            await Kit.WaitUntil(() => Kit.Lines(Out("all.jsonl")).Count >= 7 && Kit.Lines(Out("short.jsonl")).Count >= 4, "more events after the failure");
            await Task.Delay(300);

            Assert.Equal(["insert t1 1", "insert t2 2", "update t1 1", "delete t2 2", "insert t10 4", "insert t1 5", "update t10 4"],
                Kit.Events(Out("all.jsonl")).Select(Kit.Describe));
            Assert.Equal(["insert t1 1", "insert t2 2", "delete t2 2", "insert t1 5"], Kit.Events(Out("short.jsonl")).Select(Kit.Describe));
            Assert.False(File.Exists(Out("never.jsonl")) && Kit.Lines(Out("never.jsonl")).Count > 0);
            Assert.Equal(PipelineState.Running, manager.Find("all-but-secret")!.Status.State);
            Assert.Equal(PipelineState.Failed, bad.Status.State);
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
        }
        Assert.Equal(PipelineState.Stopped, manager.Find("all-but-secret")!.Status.State);
        Assert.Equal(PipelineState.Stopped, manager.Find("short-names")!.Status.State);
        Assert.Equal(PipelineState.Failed, manager.Find("wrong-password")!.Status.State);
    }

    [Fact]
    public async Task Start_modes_latest_earliest_gtid_and_file_position()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_start; CREATE DATABASE pt_start; CREATE TABLE pt_start.t (id INT PRIMARY KEY, phase VARCHAR(10));");
        db.Sql("INSERT INTO pt_start.t VALUES (1, 'before');");
        var position = Kit.MasterStatus(db);
        var gtid = Kit.GtidPos(db);
        db.Sql("INSERT INTO pt_start.t VALUES (2, 'after'); INSERT INTO pt_start.t VALUES (3, 'after');");
        const string filter = """{ include: ["pt_start.*"] }""";

        async Task<List<long>> Run(string name, string start, int expected, Action? whenRunning = null)
        {
            await using var p = Pipeline(Kit.PipelineYaml(db, name, start, filter, Out(name + ".jsonl"))).Start();
            await p.WaitRunning();
            whenRunning?.Invoke();
            await Kit.WaitUntil(() => Kit.Lines(Out(name + ".jsonl")).Count >= expected, $"{expected} events from start {start}", TimeSpan.FromSeconds(30));
            await Task.Delay(250); // nothing more may come
            await p.StopAsync();
            return Kit.Events(Out(name + ".jsonl")).Select(Kit.Id).ToList();
        }

        Assert.Equal([1, 2, 3], await Run("earliest", "earliest", 3));
        Assert.Equal([2, 3], await Run("filepos", Kit.FileStart(position), 2));
        Assert.Equal([2, 3], await Run("gtid", $"{{ gtid: \"{gtid}\" }}", 2));
        Assert.Equal([4], await Run("latest", "latest", 1, () => db.Sql("INSERT INTO pt_start.t VALUES (4, 'latest');")));
    }

    [Fact]
    public async Task A_graceful_stop_checkpoints_and_a_restart_delivers_exactly_the_new_changes()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_resume; CREATE DATABASE pt_resume; CREATE TABLE pt_resume.t (id INT PRIMARY KEY, v VARCHAR(10));" +
               "CREATE DATABASE IF NOT EXISTS pt_other; DROP TABLE IF EXISTS pt_other.t_resume; CREATE TABLE pt_other.t_resume (id INT PRIMARY KEY);");
        var yaml = Kit.PipelineYaml(db, "resume", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["pt_resume.*"] }""", Out("resume.jsonl"));
        var config = Kit.Config(_dir, yaml);
        var store = new FileCheckpointStore(config.StateDirectory);

        await using (var first = Pipeline(yaml, store: store).Start())
        {
            db.Sql("INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'a'); INSERT INTO t VALUES (3, 'a');", "pt_resume");
            await Kit.WaitUntil(() => Kit.Lines(Out("resume.jsonl")).Count >= 3, "the first 3 events");
            db.Sql("INSERT INTO pt_other.t_resume VALUES (1), (2);"); // filtered out, but it moves the position
            var endOfBinlog = Kit.MasterStatus(db);
            await Kit.WaitUntil(() => first.Status.EventsFiltered >= 2, "the filtered change to be read");
            await first.StopAsync();
            Assert.Equal(PipelineState.Stopped, first.Status.State);
            // The final checkpoint is written, and reaches past the filtered transactions to the end of the binlog.
            var saved = await store.LoadAsync("resume", CancellationToken.None);
            Assert.NotNull(saved);
            Assert.Equal((endOfBinlog.File, endOfBinlog.Position), (saved.File, saved.Position));
            Assert.Equal(first.Status.Checkpoint, saved);
            Assert.Equal(3, saved.EventsDelivered);
            Assert.False(string.IsNullOrEmpty(saved.Gtid));
        }

        db.Sql("INSERT INTO t VALUES (4, 'b'); UPDATE t SET v = 'b' WHERE id = 1; DELETE FROM t WHERE id = 2;", "pt_resume");

        await using (var second = Pipeline(yaml, store: store).Start())
        {
            await Kit.WaitUntil(() => Kit.Lines(Out("resume.jsonl")).Count >= 6, "the 3 new events");
            await Task.Delay(300);
            Assert.Equal(["insert t 1", "insert t 2", "insert t 3", "insert t 4", "update t 1", "delete t 2"],
                Kit.Events(Out("resume.jsonl")).Select(Kit.Describe));
            await second.StopAsync();
            Assert.Equal(6, (await store.LoadAsync("resume", CancellationToken.None))!.EventsDelivered);
        }
    }

    [Fact]
    public async Task A_failing_sink_is_retried_from_the_checkpoint_until_everything_is_delivered()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_flaky; CREATE DATABASE pt_flaky; CREATE TABLE pt_flaky.t (id INT PRIMARY KEY, v INT);");
        var yaml = Kit.PipelineYaml(db, "flaky", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["pt_flaky.*"] }""", Out("flaky.jsonl"));
        var sink = new FlakySink(new FileSink(Out("flaky.jsonl")));
        var store = new RecordingStore(new FileCheckpointStore(Path.Combine(_dir, "state")), Out("flaky.jsonl"));
        await using var p = Pipeline(yaml, sink, store).Start();

        db.Sql("INSERT INTO t VALUES (1, 0);", "pt_flaky");
        var afterFirst = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == afterFirst.Position, "the first event");
        var before = p.Status.Checkpoint!;

        // The sink goes down: writes throw. The pipeline retries (from its checkpoint) and never moves past it.
        sink.FailWrites = true;
        db.Sql("INSERT INTO t VALUES (2, 0); INSERT INTO t VALUES (3, 0); BEGIN; INSERT INTO t VALUES (4, 0); UPDATE t SET v = 1 WHERE id = 1; COMMIT; DELETE FROM t WHERE id = 3;", "pt_flaky");
        var afterOutage = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => p.Status.State == PipelineState.Retrying && sink.Failures >= 3, "the pipeline to retry");
        Assert.Contains("boom", p.Status.LastError);
        Assert.Equal(before, p.Status.Checkpoint);
        Assert.Single(Kit.Lines(Out("flaky.jsonl")));

        // Back up: everything arrives, once, in order, and the state is Running again.
        sink.FailWrites = false;
        await Kit.WaitUntil(() => Kit.Lines(Out("flaky.jsonl")).Count >= 6 && p.Status.State == PipelineState.Running, "recovery");
        Assert.Equal(["insert t 1", "insert t 2", "insert t 3", "insert t 4", "update t 1", "delete t 3"], Kit.Events(Out("flaky.jsonl")).Select(Kit.Describe));
        Assert.Null(p.Status.LastError);
        Assert.True(p.Status.SinkRetries >= 3);

        // Flushes refused: the events already written may come again, but none is lost and none is checkpointed early.
        // (Once the recovered events are checkpointed: a flush refused before that would rightly send them again too;
        // a CI run refused the recovered batch's own flush.)
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == afterOutage.Position, "the checkpoint after recovery");
        var failures = sink.Failures;
        sink.FailFlushes(2);
        db.Sql("INSERT INTO t VALUES (5, 0); INSERT INTO t VALUES (6, 0);", "pt_flaky");
        var after6 = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => sink.Failures == failures + 2 && p.Status.Checkpoint?.Position == after6.Position && p.Status.State == PipelineState.Running,
            "delivery after refused flushes");
        Assert.Contains(6L, Kit.Events(Out("flaky.jsonl")).Select(Kit.Id));
        // Checkpoint store failures are retried in place.
        lock (store.Saves) store.FailNextSaves = 2;
        db.Sql("INSERT INTO t VALUES (7, 0);", "pt_flaky");
        var end = Kit.MasterStatus(db);
        await Kit.WaitUntil(() => p.Status.Checkpoint?.Position == end.Position, "the checkpoint after refused saves");

        var lines = Kit.Lines(Out("flaky.jsonl"));
        var described = lines.Select(ChangeEventJson.Parse).Select(Kit.Describe).ToList();
        output.WriteLine(string.Join("\n", sink.Calls));
        Assert.Equal(["insert t 1", "insert t 2", "insert t 3", "insert t 4", "update t 1", "delete t 3", "insert t 5", "insert t 6", "insert t 7"],
            described.Distinct());
        Assert.All(described.GroupBy(d => d).Where(g => g.Count() > 1), g => Assert.Contains(g.Key, new[] { "insert t 5", "insert t 6" }));
        store.AssertNeverAhead(lines);
    }

    /// <summary>Blocks the first write until released (a sink that has stalled).</summary>
    private sealed class StalledSink(ISink inner) : ISink
    {
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
        {
            Stalled.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            await inner.WriteAsync(batch, cancellationToken);
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task Big_rows_behind_a_stalled_sink_stay_within_queue_bytes_and_all_arrive()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_big; CREATE DATABASE pt_big; CREATE TABLE pt_big.t (id INT PRIMARY KEY, body LONGTEXT);");
        var yaml = Kit.PipelineYaml(db, "big", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["pt_big.*"] }""", Out("big.jsonl"),
            extra: "    batch_size: 1\n    queue_bytes: 1048576");
        var sink = new StalledSink(new FileSink(Out("big.jsonl")));
        await using var p = Pipeline(yaml, sink).Start();
        // 40 rows of 300 KB in one transaction: 12 MB, which the default queue_chunks (64 chunks) alone would let in.
        db.Sql("INSERT INTO t SELECT seq, REPEAT(CHAR(64 + seq % 26), 300000) FROM seq_1_to_40;", "pt_big");
        await sink.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(500); // time for the reader to run ahead, if it could
        // One row in the stalled write, what fits in the queue's 1 MB (a row is charged about 600 KB: its text as
        // UTF-16 and more), and one the reader holds while it waits for room.
        var read = p.Status.EventsIn;
        Assert.InRange(read, 1, 6);
        Assert.InRange(p.Status.QueuedBytes, 1, 1048576);

        sink.Release.SetResult();
        await Kit.WaitUntil(() => Kit.Lines(Out("big.jsonl")).Count >= 40, "40 big rows");
        var events = Kit.Lines(Out("big.jsonl")).Select(ChangeEventJson.Parse).ToList();
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), events.Select(Kit.Id));
        Assert.All(events, e => Assert.Equal(300000, ((string)e.After!["body"]!).Length));
        output.WriteLine($"read ahead of a stalled sink: {read} of 40 rows");
    }

    [Fact]
    public async Task A_long_transaction_is_delivered_and_checkpointed_only_at_its_end_and_a_stop_finishes_it()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_long; CREATE DATABASE pt_long; CREATE TABLE pt_long.t (id INT PRIMARY KEY, v VARCHAR(20));");
        var yaml = Kit.PipelineYaml(db, "long", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["pt_long.*"] }""", Out("long.jsonl"),
            extra: "    batch_size: 500\n    queue_chunks: 2");
        var sink = new FlakySink(new FileSink(Out("long.jsonl")));
        var store = new RecordingStore(new FileCheckpointStore(Path.Combine(_dir, "state")), Out("long.jsonl"));
        var p = Pipeline(yaml, sink, store).Start();
        try
        {
            db.Sql("INSERT INTO t VALUES (0, 'small');", "pt_long");
            var txStart = Kit.MasterStatus(db);
            db.Sql("INSERT INTO t SELECT seq, 'big' FROM seq_1_to_12000;", "pt_long");
            var txEnd = Kit.MasterStatus(db);
            db.Sql("INSERT INTO t VALUES (20000, 'after');", "pt_long");
            await Kit.WaitUntil(() => Kit.Lines(Out("long.jsonl")).Count >= 12002, "12,002 events", TimeSpan.FromSeconds(30));
            await Kit.WaitUntil(() => p.Status.Checkpoint?.Position > txEnd.Position, "the checkpoint after the long transaction");

            var lines = Kit.Lines(Out("long.jsonl"));
            Assert.Equal(12002, lines.Count);
            Assert.Equal(Enumerable.Range(0, 12001).Select(i => (long)i).Append(20000), lines.Select(ChangeEventJson.Parse).Select(Kit.Id));
            Assert.True(sink.WriteCalls >= 10, $"{sink.WriteCalls} writes: the transaction should span many batches");
            lock (store.Saves)
                Assert.All(store.Saves, s => Assert.False(s.Checkpoint.File == txStart.File && s.Checkpoint.Position > txStart.Position && s.Checkpoint.Position < txEnd.Position,
                    $"checkpoint {s.Checkpoint} inside the transaction {txStart.Position}..{txEnd.Position}"));
            store.AssertNeverAhead(lines);

            // A graceful stop while a long transaction streams in: the reader finishes the transaction, the sink
            // gets all of it, the checkpoint lands at its end, and a restart repeats nothing.
            sink.WriteDelay = TimeSpan.FromMilliseconds(15);
            var writer = Task.Run(() => db.Sql("INSERT INTO t SELECT 100000 + seq, 'second' FROM seq_1_to_12000;", "pt_long"));
            await Kit.WaitUntil(() => p.Status.EventsOut > 12002 + 1000, "the second long transaction to be under way");
            await p.StopAsync();
            await writer;
            var end = Kit.MasterStatus(db);
            Assert.Equal(24002, Kit.Lines(Out("long.jsonl")).Count);
            Assert.Equal((end.File, end.Position), (p.Status.Checkpoint!.File, p.Status.Checkpoint.Position));
        }
        finally
        {
            await p.DisposeAsync();
        }
        await using var again = Pipeline(yaml, store: new FileCheckpointStore(Path.Combine(_dir, "state"))).Start();
        await again.WaitRunning();
        db.Sql("INSERT INTO t VALUES (300000, 'last');", "pt_long");
        await Kit.WaitUntil(() => Kit.Lines(Out("long.jsonl")).Count >= 24003, "the event after the restart");
        await Task.Delay(200);
        var all = Kit.Lines(Out("long.jsonl"));
        Assert.Equal(24003, all.Count);
        Assert.Equal(300000, Kit.Id(ChangeEventJson.Parse(all[^1])));
    }

    [Fact]
    public async Task Sink_and_transform_swaps_happen_between_transactions_with_nothing_lost_or_repeated()
    {
        db.Sql("DROP DATABASE IF EXISTS pt_swap; CREATE DATABASE pt_swap; CREATE TABLE pt_swap.t (id INT PRIMARY KEY, tx INT);");
        var yaml = Kit.PipelineYaml(db, "swap", Kit.FileStart(Kit.MasterStatus(db)), """{ include: ["pt_swap.*"] }""", Out("swap-a.jsonl"));
        await using var p = Pipeline(yaml, transform: new StampTransform("v1")).Start();
        await p.WaitRunning();

        // A steady stream of three-statement transactions.
        const int transactions = 60;
        var writer = Task.Run(async () =>
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = db.User, SslMode = SslMode.None });
            for (var tx = 0; tx < transactions; tx++)
            {
                await c.ExecuteAsync("BEGIN");
                for (var i = 0; i < 3; i++) await c.ExecuteAsync($"INSERT INTO pt_swap.t VALUES ({tx * 3 + i}, {tx})");
                await c.ExecuteAsync("COMMIT");
                await Task.Delay(5);
            }
        });
        await Kit.WaitUntil(() => Kit.Lines(Out("swap-a.jsonl")).Count >= 6, "the first transactions");
        p.Runner.SwapTransform(new StampTransform("v2"));
        await Kit.WaitUntil(() => Kit.Lines(Out("swap-a.jsonl")).Count >= 21, "more transactions");
        await p.Runner.SwapSinkAsync(new FileSink(Out("swap-b.jsonl"))).WaitAsync(TimeSpan.FromSeconds(10));
        await writer;
        await Kit.WaitUntil(() => Kit.Lines(Out("swap-a.jsonl")).Count + Kit.Lines(Out("swap-b.jsonl")).Count >= transactions * 3, "every row");

        var a = Kit.Events(Out("swap-a.jsonl"));
        var b = Kit.Events(Out("swap-b.jsonl"));
        output.WriteLine($"{a.Count} events before the swap, {b.Count} after");
        Assert.NotEmpty(b);
        Assert.Equal(Enumerable.Range(0, transactions * 3).Select(i => (long)i), a.Concat(b).Select(Kit.Id));
        Assert.Equal(0, a.Count % 3); // whole transactions on each side
        Assert.True(a.Max(e => (long)e.After!["tx"]!) < b.Min(e => (long)e.After!["tx"]!));
        // Each transaction saw exactly one transform version; v1 first, then v2 for good.
        var versions = a.Concat(b).GroupBy(e => (long)e.After!["tx"]!).Select(g => g.Select(e => (string)e.Extra["version"]!).Distinct().ToList()).ToList();
        Assert.All(versions, v => Assert.Single(v));
        var sequence = versions.Select(v => v[0]).ToList();
        Assert.Equal(sequence.Order(StringComparer.Ordinal), sequence);
        Assert.Contains("v1", sequence);
        Assert.Contains("v2", sequence);
        Assert.Equal("v2", p.Status.TransformVersion);

        // While idle (between transactions) a swap happens at once.
        await p.Runner.SwapSinkAsync(new FileSink(Out("swap-c.jsonl"))).WaitAsync(TimeSpan.FromSeconds(5));
        db.Sql("INSERT INTO pt_swap.t VALUES (1000, 1000);");
        await Kit.WaitUntil(() => Kit.Lines(Out("swap-c.jsonl")).Count >= 1, "the event after the idle swap");
        Assert.Equal(transactions * 3, Kit.Lines(Out("swap-b.jsonl")).Count + a.Count);
    }
}
