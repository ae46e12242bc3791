using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PluginHost.Binlog.Protocol;
using PluginHost.Config;
using PluginHost.Demo;
using PluginHost.Plugins;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;

namespace PluginHost.Benchmarks;

/// <summary>
/// The webhook sink against a local Kestrel receiver:
/// (1) events/s with one event per request and (2) with batches of 100 — the sink fed directly, flushed every
/// 2,048 events as the host does; (3) p50/p99 commit-to-2xx latency at a steady rate of changes written to MariaDB
/// and carried by the real host process (binlog → pipeline → webhook plugin → receiver).
/// </summary>
internal static class WebhookBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var events = IntOption(args, "--events", 200_000);
        var batchedEvents = IntOption(args, "--batched-events", 1_000_000);
        var workers = IntOption(args, "--workers", 32);
        var rate = IntOption(args, "--rate", 1000);
        var seconds = IntOption(args, "--seconds", 10);
        var inProcess = args.Contains("--in-process");
        var queueChunks = IntOption(args, "--queue-chunks", 0);
        var noCheckpoint = args.Contains("--no-checkpoint");
        var outageOnly = args.Contains("--outage-only");
        var latencyOnly = args.Contains("--latency-only"); // only 3 (and 3b), with the per-stage breakdown when in-process
        s_neighbour = args.Contains("--neighbour");
        if (noCheckpoint) inProcess = true;
        Console.WriteLine($"webhook benchmark on {Environment.ProcessorCount} CPU(s), .NET {Environment.Version}");

        await using var receiver = await Receiver.StartAsync();
        Console.WriteLine($"receiver: Kestrel on {receiver.Url}");
        PrintLoad();
        if (outageOnly) return await OutageAsync(receiver, rate, seconds, inProcess);
        if (latencyOnly)
        {
            for (var round = 1; round <= IntOption(args, "--rounds", 1); round++)
            {
                var l = await LatencyAsync(receiver, rate, seconds, inProcess, queueChunks, noCheckpoint);
                Console.WriteLine($"3. commit-to-2xx latency at {rate:N0} changes/s for {seconds} s{(inProcess ? " (in-process pipeline)" : " (host process)")}{(s_neighbour ? " beside one busy process" : "")}: " +
                                  $"p50 {l.P50:F2} ms   p99 {l.P99:F2} ms   p99.9 {l.P999:F2} ms   max {l.Max:F2} ms");
                PrintLoad();
            }
            return 0;
        }

        var unbatched = await ThroughputAsync(receiver, events, workers, batchSize: 1);
        Console.WriteLine($"1. one event per request:  {unbatched.EventsPerSecond,10:N0} events/s  ({unbatched.Requests:N0} requests in {unbatched.Seconds:F2} s, {workers} lanes)   target ≥ 10,000");
        var batched = await ThroughputAsync(receiver, batchedEvents, workers, batchSize: 100);
        Console.WriteLine($"2. batches of 100:         {batched.EventsPerSecond,10:N0} events/s  ({batched.Requests:N0} requests in {batched.Seconds:F2} s, {workers} lanes)   target ≥ 100,000");

        var (p50, p99, p999, max, count, p50Start, p99Start) = await LatencyAsync(receiver, rate, seconds, inProcess, queueChunks, noCheckpoint);
        Console.WriteLine($"3. commit-to-2xx latency at {rate:N0} changes/s for {seconds} s from MariaDB through the host{(inProcess ? " (in-process pipeline)" : " process")}{(noCheckpoint ? " without checkpoint saves" : "")}{(queueChunks > 0 ? $", queue_chunks {queueChunks}" : "")} ({count:N0} changes):");
        Console.WriteLine($"   p50 {p50:F2} ms   p99 {p99:F2} ms   p99.9 {p999:F2} ms   max {max:F2} ms   target p99 < 10 ms");
        Console.WriteLine($"   (measured from the commit's return to the receiver; from the start of the INSERT: p50 {p50Start:F2} ms, p99 {p99Start:F2} ms)");
        var ok = unbatched.EventsPerSecond >= 10_000 && batched.EventsPerSecond >= 100_000 && p99 < 10;
        if (!inProcess && !args.Contains("--no-diagnostic"))
        {
            // The same load with the pipeline in this process, a deep queue and no checkpoint saves: the part of the
            // latency that is not the pipeline's per-batch checkpoint fsync (see the README).
            var d = await LatencyAsync(receiver, rate, seconds, inProcess: true, queueChunks: 4096, noCheckpoint: true);
            Console.WriteLine($"3b. diagnostic, same load, in-process pipeline, queue_chunks 4096, checkpoint saves stubbed out:");
            Console.WriteLine($"   p50 {d.P50:F2} ms   p99 {d.P99:F2} ms   p99.9 {d.P999:F2} ms   max {d.Max:F2} ms");
        }
        if (!args.Contains("--no-outage")) ok &= await OutageAsync(receiver, rate, seconds, inProcess) == 0;
        PrintLoad();
        Console.WriteLine(ok ? "all targets met" : "some targets missed");
        return 0;
    }

    /// <summary>
    /// (4) The same load while a second task's receiver fails the whole time — answering 500, then timing out — and a
    /// change for it is written every tenth tick: the healthy task's commit-to-2xx latency must not care.
    /// </summary>
    private static async Task<int> OutageAsync(Receiver receiver, int rate, int seconds, bool inProcess)
    {
        var ok = true;
        foreach (var (mode, fault) in new (string, Func<string, (int, TimeSpan)>)[]
                 {
                     ("answers 500", path => path == "/down" ? (500, TimeSpan.Zero) : (200, TimeSpan.Zero)),
                     ("times out (no answer within the sink's 2 s timeout)", path => path == "/down" ? (200, TimeSpan.FromSeconds(5)) : (200, TimeSpan.Zero)),
                 })
        {
            receiver.Fault = fault;
            try
            {
                var r = await LatencyAsync(receiver, rate, seconds, inProcess, 0, false, outage: true);
                Console.WriteLine($"4. commit-to-2xx latency of a healthy task at {rate:N0} changes/s for {seconds} s while another task's receiver {mode}{(inProcess ? " (in-process pipeline)" : " (host process)")} ({r.Count:N0} changes):");
                Console.WriteLine($"   p50 {r.P50:F2} ms   p99 {r.P99:F2} ms   p99.9 {r.P999:F2} ms   max {r.Max:F2} ms   target p99 < 50 ms");
                ok &= r.P99 < 50;
            }
            finally
            {
                receiver.Fault = null;
            }
        }
        return ok ? 0 : 1;
    }

    private static bool s_neighbour;

    private sealed record Throughput(double EventsPerSecond, long Requests, double Seconds);

    /// <summary>Feeds <paramref name="count"/> events (distinct rows, so every lane works) and times until the last 2xx.</summary>
    private static async Task<Throughput> ThroughputAsync(Receiver receiver, int count, int workers, int batchSize)
    {
        var settings = JsonDocument.Parse($$"""
            { "type": "webhook", "callback_host": "{{receiver.Url}}", "worker_count": {{workers}}, "max_connections": {{workers}},
              "batch_size": {{batchSize}}, "timeout": "10s", "tasks": [ { "table": "orders", "url": "/bench" } ] }
            """).RootElement;
        var sink = new WebhookSinkFactory().Create(new SinkContext("bench", settings, new ConsoleLog(), Path.GetTempPath()));
        await using (sink)
        {
            var all = MakeEvents(count);
            // Warm-up: connections, JIT.
            await sink.WriteAsync(MakeEvents(Math.Min(20_000, count / 10)), default);
            await sink.FlushAsync(default);
            receiver.Reset();
            var sw = Stopwatch.StartNew();
            foreach (var chunk in all.Chunk(2048))
            {
                await sink.WriteAsync(chunk, default);
                await sink.FlushAsync(default);
            }
            sw.Stop();
            if (receiver.Events != count) throw new InvalidOperationException($"receiver got {receiver.Events} of {count} events");
            return new Throughput(count / sw.Elapsed.TotalSeconds, receiver.Requests, sw.Elapsed.TotalSeconds);
        }
    }

    private static List<ChangeEvent> MakeEvents(int count)
    {
        var schema = new TableInfo("bench", "orders",
        [
            new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("customer", ColumnKind.Text), new ColumnInfo("amount", ColumnKind.Decimal),
            new ColumnInfo("qty", ColumnKind.Integer), new ColumnInfo("created", ColumnKind.DateTime),
        ]);
        var list = new List<ChangeEvent>(count);
        var ts = DateTimeOffset.UtcNow;
        for (var i = 1; i <= count; i++)
            list.Add(new ChangeEvent
            {
                Op = ChangeOperation.Insert, Database = "bench", Table = "orders", Schema = schema,
                After = new Row { ["id"] = (long)i, ["customer"] = "customer-" + i % 997, ["amount"] = i % 100000 / 100m, ["qty"] = (long)(i % 50), ["created"] = new DateTime(2026, 1, 1).AddSeconds(i % 86400) },
                Gtid = $"0-1-{i}", File = "mysql-bin.000001", Position = 4 + i * 100L, Timestamp = ts, TransactionId = $"0-1-{i}",
            });
        return list;
    }

    /// <summary>
    /// Inserts rows at a steady <paramref name="rate"/> (one transaction each) into a throwaway MariaDB while the real
    /// host process runs a webhook pipeline to the receiver; latency = receiver time − commit time of each row.
    /// </summary>
    private static async Task<(double P50, double P99, double P999, double Max, int Count, double P50Start, double P99Start)> LatencyAsync(
        Receiver receiver, int rate, int seconds, bool inProcess, int queueChunks, bool noCheckpoint, bool outage = false)
    {
        using var db = new ThrowawayMariaDb();
        db.Sql("CREATE DATABASE bench; CREATE TABLE bench.ticks (id INT NOT NULL PRIMARY KEY, note VARCHAR(40) NOT NULL); " +
               "CREATE TABLE bench.down (id INT NOT NULL PRIMARY KEY, note VARCHAR(40) NOT NULL);");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var dir = Directory.CreateTempSubdirectory("pluginhost-webhook-bench-").FullName;
        var plugins = PluginDirectories.BuiltPlugins;
        if (!File.Exists(Path.Combine(plugins, "Webhook", "PluginHost.Plugins.Webhook.dll")))
            throw new InvalidOperationException($"the webhook plugin is not built in {plugins} (dotnet build plugins/Webhook)");
        var yaml = $$"""
            state_dir: state
            plugins_dir: {{plugins}}
            server: { enabled: false }
            log: { level: warn }
            pipelines:
              - name: latency
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: 778, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["bench.*"] }
                queue_chunks: {{queueChunks}}
                sink: { type: webhook, callback_host: "{{receiver.Url}}", worker_count: 20, timeout: 2s, tasks: [ { table: ticks, url: /latency }{{(outage ? ", { table: down, url: /down }" : "")}} ] }
            """;
        if (queueChunks == 0) yaml = yaml.Replace("    queue_chunks: 0\n", "");
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), yaml);
        var ids = new long[rate * seconds + 1];
        var committed = new long[ids.Length];
        var started = new long[ids.Length];
        receiver.Reset();
        receiver.OnBody = body =>
        {
            var at = Stopwatch.GetTimestamp();
            // {"op":"insert",…,"after":{"id":N,…
            var i = body.IndexOf("\"after\":{\"id\":"u8);
            if (i < 0) return;
            var rest = body[(i + 14)..];
            long id = 0;
            foreach (var b in rest)
            {
                if (b is < (byte)'0' or > (byte)'9') break;
                id = id * 10 + (b - '0');
            }
            if (id > 0 && id < ids.Length) Volatile.Write(ref ids[id], at);
        };
        using var host = inProcess ? null : StartHost(Path.Combine(dir, "pluginhost.yaml"));
        using var stopInProcess = new CancellationTokenSource();
        Task? pipeline = null;
        if (inProcess)
        {
            var config = PluginHost.Config.ConfigLoader.Load(Path.Combine(dir, "pluginhost.yaml"));
            var def = config.Pipelines[0];
            var sink = new WebhookSinkFactory().Create(new SinkContext(def.Name, def.SinkSettings, new ConsoleLog(), config.BaseDirectory));
            // --no-checkpoint: checkpoints are not saved (diagnostic: what the pipeline and sink cost without the fsyncs).
            PluginHost.Checkpoints.ICheckpointStore store = noCheckpoint ? new NoStore() : new PluginHost.Checkpoints.FileCheckpointStore(config.StateDirectory);
            var runner = new PluginHost.Pipelines.PipelineRunner(def, sink, store,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new PluginHost.Pipelines.PipelineStatus(def.Name));
            pipeline = Task.Run(async () =>
            {
                try { await runner.RunAsync(stopInProcess.Token); } finally { await sink.DisposeAsync(); }
            });
        }
        try
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = "127.0.0.1", Port = db.Port, User = "root", SslMode = SslMode.None });
            // Warm up until the pipeline delivers (the host starts, loads the plugin, connects).
            var warm = Stopwatch.StartNew();
            for (var w = 1; receiver.Events == 0; w++)
            {
                if (host?.HasExited == true || pipeline?.IsCompleted == true) throw new InvalidOperationException("the host exited");
                if (warm.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("the pipeline did not deliver within 60 s");
                await c.ExecuteAsync($"INSERT INTO bench.ticks VALUES ({-w}, 'warm-up')");
                await Task.Delay(100);
            }
            await Task.Delay(1000);
            var total = rate * seconds;
            using var stages = inProcess ? new StageBreakdown(total) : null;
            using var busy = s_neighbour ? Neighbour.Start() : null;
            stages?.Start();
            var t0 = Stopwatch.GetTimestamp();
            var interval = Stopwatch.Frequency / (double)rate;
            for (var i = 1; i <= total; i++)
            {
                var due = t0 + (long)(i * interval);
                while (Stopwatch.GetTimestamp() < due)
                {
                    var wait = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                    if (wait > 2) await Task.Delay(1); else Thread.SpinWait(50);
                }
                started[i] = Stopwatch.GetTimestamp();
                await c.ExecuteAsync($"INSERT INTO bench.ticks VALUES ({i}, 'tick {i}')");
                committed[i] = Stopwatch.GetTimestamp();
                if (outage && i % 10 == 0) await c.ExecuteAsync($"INSERT INTO bench.down VALUES ({i}, 'for the failing receiver')");
            }
            var deadline = Stopwatch.StartNew();
            while (Enumerable.Range(1, total).Any(i => Volatile.Read(ref ids[i]) == 0) && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
            stages?.Print(committed, ids, "2xx received");
            var fromCommit = new List<double>(total);
            var fromStart = new List<double>(total);
            for (var i = 1; i <= total; i++)
            {
                var at = Volatile.Read(ref ids[i]);
                if (at == 0) throw new InvalidOperationException($"change {i} never arrived");
                fromCommit.Add(Math.Max(0, (at - committed[i]) * 1000.0 / Stopwatch.Frequency));
                fromStart.Add((at - started[i]) * 1000.0 / Stopwatch.Frequency);
            }
            fromCommit.Sort();
            fromStart.Sort();
            return (Pct(fromCommit, 50), Pct(fromCommit, 99), Pct(fromCommit, 99.9), fromCommit[^1], total, Pct(fromStart, 50), Pct(fromStart, 99));
        }
        finally
        {
            receiver.OnBody = null;
            if (host is { HasExited: false })
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
            }
            stopInProcess.Cancel();
            if (pipeline != null) try { await pipeline; } catch (OperationCanceledException) { }
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];


    private sealed class NoStore : PluginHost.Checkpoints.ICheckpointStore
    {
        public Task<PluginHost.Checkpoints.Checkpoint?> LoadAsync(string p, CancellationToken c) => Task.FromResult<PluginHost.Checkpoints.Checkpoint?>(null);
        public Task SaveAsync(string p, PluginHost.Checkpoints.Checkpoint cp, CancellationToken c) => Task.CompletedTask;
        public Task DeleteAsync(string p, CancellationToken c) => Task.CompletedTask;
    }

    private sealed class ConsoleLog : IPluginLogger
    {
        public void Info(string message) { }
        public void Warning(string message) => Console.Error.WriteLine("sink: " + message);
        public void Error(string message, Exception? exception = null) => Console.Error.WriteLine("sink: " + message);
    }

    /// <summary>A minimal receiver: counts requests and events (JSON array items or one object), answers 200.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private long _requests, _events;

        private Receiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }
        public long Requests => Interlocked.Read(ref _requests);
        public long Events => Interlocked.Read(ref _events);
        public BodyAction? OnBody { get; set; }

        /// <summary>The status (and delay) to answer for a path; null: 200 at once.</summary>
        public Func<string, (int Status, TimeSpan Delay)>? Fault { get; set; }

        public delegate void BodyAction(ReadOnlySpan<byte> body);

        public void Reset()
        {
            Interlocked.Exchange(ref _requests, 0);
            Interlocked.Exchange(ref _events, 0);
        }

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            var port = FreePort();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
            var app = builder.Build();
            Receiver? self = null;
            app.Run(async ctx =>
            {
                if (self!.Fault?.Invoke(ctx.Request.Path.Value ?? "") is { } fault && (fault.Status != 200 || fault.Delay > TimeSpan.Zero))
                {
                    try { await Task.Delay(fault.Delay, ctx.RequestAborted); } catch (OperationCanceledException) { return; }
                    ctx.Response.StatusCode = fault.Status;
                    return;
                }
                var buffer = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(buffer);
                var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
                long n;
                if (body.Length > 0 && body[0] == (byte)'[')
                {
                    n = 0;
                    var depth = 0;
                    var inString = false;
                    for (var i = 0; i < body.Length; i++)
                    {
                        var b = body[i];
                        if (inString)
                        {
                            if (b == '\\') i++;
                            else if (b == '"') inString = false;
                        }
                        else if (b == '"') inString = true;
                        else if (b == '{' && ++depth == 1) n++;
                        else if (b == '}') depth--;
                    }
                }
                else n = 1;
                self!.OnBody?.Invoke(body);
                Interlocked.Increment(ref self._requests);
                Interlocked.Add(ref self._events, n);
                ctx.Response.StatusCode = 200;
            });
            await app.StartAsync();
            self = new Receiver(app, $"http://127.0.0.1:{port}");
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
