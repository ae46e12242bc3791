using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using System.Text.Json;
using PluginHost.Binlog.Protocol;
using PluginHost.Demo;

namespace PluginHost.Benchmarks;

/// <summary>
/// End to end through the real host process: (1) catch-up from a MariaDB backlog of N row changes to the file sink
/// (events/s), (2) commit-to-sink latency at a steady rate (p50/p99), (3) the host's peak RSS. <c>--in-process</c> runs
/// the pipeline in this process instead and adds a per-stage breakdown of the latency; <c>--neighbour</c> runs one busy
/// process beside it while latency is measured; <c>--rows 0</c> skips the catch-up.
/// </summary>
internal static class PipelineBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = IntOption(args, "--rows", 1_000_000);
        var rate = IntOption(args, "--rate", 1000);
        var seconds = IntOption(args, "--seconds", 10);
        var gen0Budget = StringOption(args, "--gen0-budget", ""); // memory.gen0_budget (bytes; 0: the runtime decides)
        var noCheckpoint = args.Contains("--no-checkpoint"); // diagnostic: checkpoints not saved (in-process)
        var inProcess = args.Contains("--in-process") || noCheckpoint;
        var neighbour = args.Contains("--neighbour");
        var rounds = IntOption(args, "--rounds", 1);
        if (noCheckpoint && rows > 0) throw new ArgumentException("--no-checkpoint needs --rows 0 (the catch-up is timed by the checkpoint)");
        PrintLoad();
        using var db = new ThrowawayMariaDb();
        db.Sql("CREATE DATABASE bench; CREATE TABLE bench.orders (id INT NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL, qty INT NOT NULL, created DATETIME NOT NULL);" +
               "CREATE TABLE bench.ticks (id INT NOT NULL PRIMARY KEY, note VARCHAR(20));");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        Console.WriteLine($"writing a backlog of {rows:N0} row changes …");
        var sw = Stopwatch.StartNew();
        for (var from = 1; from <= rows; from += 100_000)
            db.Sql($"INSERT INTO bench.orders SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100, seq % 50, '2026-01-01' + INTERVAL (seq % 86400) SECOND FROM seq_{from}_to_{Math.Min(rows, from + 99_999)};", "bench");
        Console.WriteLine($"backlog written in {sw.Elapsed.TotalSeconds:F1} s ({rows / sw.Elapsed.TotalSeconds:N0} rows/s by the server)");

        var dir = Directory.CreateTempSubdirectory("pluginhost-bench-").FullName;
        var outFile = Path.Combine(dir, "out.jsonl");
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), $$"""
            state_dir: state
            server: { enabled: false }
            log: { level: warn }
            {{(gen0Budget.Length > 0 ? $"memory: {{ gen0_budget: {gen0Budget} }}" : "")}}
            pipelines:
              - name: bench
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: 777, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["bench.*"] }
                sink: { type: file, path: out.jsonl }
            """);
        using var host = inProcess ? null : StartHost(Path.Combine(dir, "pluginhost.yaml"));
        using var stopInProcess = new CancellationTokenSource();
        var pipeline = inProcess ? RunInProcess(Path.Combine(dir, "pluginhost.yaml"), noCheckpoint, stopInProcess.Token) : null;
        try
        {
            // 1. Catch-up throughput.
            var checkpoint = Path.Combine(dir, "state", "bench.checkpoint.json");
            sw.Restart();
            Stopwatch? firstEvent = null;
            while (Delivered(checkpoint) < rows)
            {
                if (firstEvent is null && File.Exists(outFile) && new FileInfo(outFile).Length > 0) firstEvent = Stopwatch.StartNew();
                if (host?.HasExited == true || pipeline?.IsCompleted == true) throw new InvalidOperationException("host exited");
                if (sw.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("catch-up took over 5 minutes");
                await Task.Delay(20);
            }
            var total = sw.Elapsed.TotalSeconds;
            var steady = firstEvent?.Elapsed.TotalSeconds ?? total;
            var pid = host?.Id ?? Environment.ProcessId;
            var rssAfterCatchUp = PeakRssMb(pid);
            if (rows > 0)
                Console.WriteLine($"catch-up: {rows:N0} events in {total:F2} s from start = {rows / total:N0} events/s (from first event: {rows / steady:N0} events/s)");
            else
                for (var w = 1; !File.Exists(outFile) || new FileInfo(outFile).Length == 0; w++)
                {
                    // Warm-up: until the pipeline is connected and delivers.
                    if (host?.HasExited == true || pipeline?.IsCompleted == true) throw new InvalidOperationException("host exited");
                    if (sw.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("no event within a minute");
                    db.Sql($"INSERT INTO bench.ticks VALUES ({-w}, 'warm-up');");
                    await Task.Delay(200);
                }

            // 2. Latency at a steady rate: single-row commits, commit time → line appears in the sink file.
            for (var round = 1; round <= rounds; round++)
            {
                var offset = (round - 1) * rate * seconds; // ids of this round: offset + 1 …
                using var stages = inProcess ? new StageBreakdown(rate * seconds, offset) : null;
                using var busy = neighbour ? Neighbour.Start() : null;
                var (p50, p99, max, n) = await MeasureLatencyAsync(db.Port, outFile, rate, seconds, offset, stages);
                Console.Write($"latency at {rate:N0} changes/s for {seconds} s ({n:N0} changes){(inProcess ? ", in-process pipeline" : ", host process")}{(noCheckpoint ? " without checkpoint saves" : "")}{(busy != null ? $", beside {busy.What}" : "")}: ");
                Console.WriteLine($"p50 {p50:F2} ms, p99 {p99:F2} ms, max {max:F2} ms (commit acknowledged → line readable in the sink file; includes ≤ 1 ms polling)");
                PrintLoad();
            }
            var peak = PeakRssMb(pid);
            Console.WriteLine($"{(inProcess ? "benchmark process (pipeline in-process)" : "host")} peak RSS: {peak:F0} MB (after catch-up {rssAfterCatchUp:F0} MB)");
            return 0;
        }
        finally
        {
            if (host is { HasExited: false }) host.Kill(true);
            stopInProcess.Cancel();
            if (pipeline != null) try { await pipeline; } catch (OperationCanceledException) { }
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>The pipeline of <paramref name="config"/> run by a <see cref="PluginHost.Pipelines.PipelineRunner"/> in this process (file sink, file checkpoints).</summary>
    private static Task RunInProcess(string config, bool noCheckpoint, CancellationToken stop)
    {
        var cfg = PluginHost.Config.ConfigLoader.Load(config);
        var def = cfg.Pipelines[0];
        var sink = new PluginHost.Sinks.FileSinkFactory().Create(new PluginHost.Sdk.SinkContext(def.Name, def.SinkSettings, new NullPluginLog(), cfg.BaseDirectory));
        var runner = new PluginHost.Pipelines.PipelineRunner(def, sink, noCheckpoint ? new NoStore() : new PluginHost.Checkpoints.FileCheckpointStore(cfg.StateDirectory),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new PluginHost.Pipelines.PipelineStatus(def.Name));
        return Task.Run(async () =>
        {
            try { await runner.RunAsync(stop); } finally { await sink.DisposeAsync(); }
        });
    }

    private sealed class NoStore : PluginHost.Checkpoints.ICheckpointStore
    {
        public Task<PluginHost.Checkpoints.Checkpoint?> LoadAsync(string p, CancellationToken c) => Task.FromResult<PluginHost.Checkpoints.Checkpoint?>(null);
        public Task SaveAsync(string p, PluginHost.Checkpoints.Checkpoint cp, CancellationToken c) => Task.CompletedTask;
        public Task DeleteAsync(string p, CancellationToken c) => Task.CompletedTask;
    }

    private sealed class NullPluginLog : PluginHost.Sdk.IPluginLogger
    {
        public void Info(string message) { }
        public void Warning(string message) => Console.Error.WriteLine("sink: " + message);
        public void Error(string message, Exception? exception = null) => Console.Error.WriteLine("sink: " + message);
    }

    private static async Task<(double P50, double P99, double Max, int Count)> MeasureLatencyAsync(int port, string outFile, int rate, int seconds, int offset, StageBreakdown? stages)
    {
        var commits = new long[rate * seconds + 1];
        var arrivals = new long[rate * seconds + 1];
        using var stop = new CancellationTokenSource();
        var tail = Task.Run(() =>
        {
            using var f = new FileStream(outFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            f.Seek(0, SeekOrigin.End);
            using var r = new StreamReader(f);
            var partial = "";
            var seen = 0;
            while (seen < commits.Length - 1 && !stop.IsCancellationRequested)
            {
                var line = r.ReadLine();
                if (line is null) { Thread.Sleep(1); continue; } // ≤ 1 ms polling granularity, without burning a core
                if (!line.EndsWith('}')) { partial += line; continue; }
                line = partial + line;
                partial = "";
                if (!line.Contains("\"table\":\"ticks\"", StringComparison.Ordinal)) continue;
                var at = line.IndexOf("\"id\":", StringComparison.Ordinal) + 5;
                var id = int.Parse(line.AsSpan(at, line.IndexOf(',', at) - at)) - offset;
                if (id > 0 && id < arrivals.Length) arrivals[id] = Stopwatch.GetTimestamp();
                seen++;
            }
        });
        await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = "127.0.0.1", Port = port, User = "root", SslMode = SslMode.None });
        var clock = Stopwatch.StartNew();
        var interval = 1000.0 / rate;
        var begin = clock.Elapsed.TotalMilliseconds;
        stages?.Start();
        for (var i = 1; i < commits.Length; i++)
        {
            var due = begin + (i - 1) * interval;
            while (clock.Elapsed.TotalMilliseconds < due - 1.2) Thread.Sleep(1);
            while (clock.Elapsed.TotalMilliseconds < due) Thread.SpinWait(20);
            await c.ExecuteAsync($"INSERT INTO bench.ticks VALUES ({offset + i}, 't')");
            commits[i] = Stopwatch.GetTimestamp();
        }
        var deadline = clock.Elapsed.TotalSeconds + 30;
        while (!tail.IsCompleted && clock.Elapsed.TotalSeconds < deadline) await Task.Delay(50);
        await stop.CancelAsync();
        await Task.Delay(200); // (the last acknowledgements)
        stages?.Print(commits, arrivals, "line readable");
        var lat = Enumerable.Range(1, commits.Length - 1).Where(i => arrivals[i] > 0).Select(i => Math.Max(0, (arrivals[i] - commits[i]) * 1000.0 / Stopwatch.Frequency)).Order().ToArray();
        if (lat.Length < commits.Length - 1) Console.WriteLine($"warning: only {lat.Length} of {commits.Length - 1} changes arrived");
        return (lat[lat.Length / 2], lat[(int)(lat.Length * 0.99)], lat[^1], lat.Length);
    }

    private static long Delivered(string checkpoint)
    {
        try
        {
            if (!File.Exists(checkpoint)) return 0;
            using var doc = JsonDocument.Parse(File.ReadAllText(checkpoint));
            return doc.RootElement.GetProperty("events_delivered").GetInt64();
        }
        catch (Exception e) when (e is IOException or JsonException) { return 0; }
    }


}
