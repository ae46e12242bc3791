using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Demo;
using PluginHost.Tests.Support;

namespace PluginHost.Benchmarks;

/// <summary>
/// End to end into Kafka: a MariaDB backlog of N row changes → the real host process (Kafka plugin loaded from
/// artifacts/plugins, obfuscate.csx transform, checkpoint in Kafka) → librdkafka's mock cluster (three brokers, in
/// this process). Measures events/s until every event is acknowledged in the topic, and the host's CPU and RSS.
/// </summary>
internal static class KafkaBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = IntOption(args, "--rows", 1_000_000);
        var format = StringOption(args, "--format", "json");
        var transform = !args.Contains("--no-transform");
        // --transform FILE: another transform than obfuscate.csx (a .js on the native contract, say); --rule FILE: a
        // JavaScript rule chain of one prensio rule (go-mysql-kafka's contract), e.g. transforms/readme.js.
        var transformFile = StringOption(args, "--transform", "transforms/obfuscate.csx");
        var ruleFile = StringOption(args, "--rule", "");
        var partitions = IntOption(args, "--partitions", 6);
        var minutes = IntOption(args, "--minutes", 5);
        var headers = args.Contains("--no-headers") ? ", headers: []" : "";
        var producer = StringOption(args, "--producer", ""); // e.g. "compression.type: lz4"
        var gen0Budget = StringOption(args, "--gen0-budget", ""); // memory.gen0_budget (bytes; 0: the runtime decides)
        var restart = !args.Contains("--first-start-only");
        var txRows = IntOption(args, "--tx-rows", 100_000); // rows per binlog transaction of the backlog
        // --exactly-once: the sink's exactly_once (events and checkpoint in one Kafka transaction per --commit-interval).
        var exactlyOnce = args.Contains("--exactly-once") ? $", exactly_once: true, commit_interval: {StringOption(args, "--commit-interval", "100ms")}" : "";
        // --toml: what a go-mysql-kafka user runs after switching: prensio's pipeline file with the seed README's transform
        // (samples/prensio-readme/readme_transform.toml, only its addresses and schema changed), `pluginhost run --config
        // FILE.toml`: format prensio, no headers (prensio sent none), the checkpoint in Kafka beside prensio's state topic.
        var toml = args.Contains("--toml");
        if (toml)
        {
            format = "prensio";
            transform = true;
            ruleFile = "samples/prensio-readme/readme_transform.toml";
            headers = ", headers: []";
        }
        var root = RepoRoot();
        var plugins = Path.Combine(root, "artifacts", "plugins");
        if (!File.Exists(Path.Combine(plugins, "Kafka", "PluginHost.Plugins.Kafka.dll")))
            throw new InvalidOperationException($"the Kafka plugin is not built into {plugins}/Kafka (build the solution or this project first)");

        using var db = new ThrowawayMariaDb();
        db.Sql("CREATE DATABASE bench; CREATE TABLE bench.orders (id INT NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL, " +
               "qty INT NOT NULL, created DATETIME NOT NULL, text_col VARCHAR(40) NOT NULL);");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');

        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("bench.orders", partitions);
        cluster.CreateTopic("pluginhost.state", 1);
        if (toml) cluster.CreateTopic("prensio-readme-transform-state", 1); // prensio's state topic, empty: no prensio ran before
        var dir = Directory.CreateTempSubdirectory("pluginhost-kafka-bench-").FullName;
        try
        {
            // A private copy of the built plugins: a rebuild of artifacts/plugins during the run must not hot-reload the sink.
            var pluginCopy = Path.Combine(dir, "plugins");
            foreach (var name in new[] { "Kafka", "UserFunctions" })
            {
                var from = Path.Combine(plugins, name);
                foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
                {
                    var to = Path.Combine(pluginCopy, name, Path.GetRelativePath(from, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(file, to);
                }
            }
            File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), $$"""
                state_dir: state
                plugins_dir: {{pluginCopy}}
                server: { enabled: false }
                log: { level: {{StringOption(args, "--log", "warn")}} }
                {{(gen0Budget.Length > 0 ? $"memory: {{ gen0_budget: {gen0Budget} }}" : "")}}
                pipelines:
                  - name: bench
                    source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: 778, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                    filter: { include: ["bench.*"] }
                {{TransformLine(root, transform, transformFile, ruleFile)}}
                    sink: { type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", format: {{format}}, create_topics: false{{exactlyOnce}}{{headers}}{{(producer.Length > 0 ? $", producer: {{ {producer} }}" : "")}} }
                    checkpoint: { type: kafka, settings: { create_topic: false } }
                """);
            string config;
            Dictionary<string, string>? environment = null;
            string? metricsAt = null; // the TOML run serves its API (as it does for users): its /metrics tells the GC's work
            if (toml)
            {
                config = Path.Combine(dir, "readme_transform.toml");
                File.WriteAllText(config, File.ReadAllText(Path.Combine(root, ruleFile))
                    .Replace("127.0.0.1:3306", $"127.0.0.1:{db.Port}").Replace("pass = \"root\"", "pass = \"\"")
                    .Replace("127.0.0.1:9092", cluster.BootstrapServers).Replace("^shop$", "^bench$"));
                // The host's own settings a TOML file has no keys for, as a user sets them: environment variables.
                environment = new Dictionary<string, string>
                {
                    ["PLUGINHOST__PLUGINS_DIR"] = pluginCopy, ["PLUGINHOST__STATE_DIR"] = Path.Combine(dir, "state"),
                    ["PLUGINHOST__LOG__LEVEL"] = StringOption(args, "--log", "warn"),
                    ["PLUGINHOST__SERVER__LISTEN"] = metricsAt = $"127.0.0.1:{FreePort()}",
                    ["PLUGINHOST__PIPELINES__readme-transform__SOURCE__SSL"] = "none",
                    // The mock cluster does not answer admin requests (no controller): the sink's topic creation would
                    // wait 3 s for its timeout where a real broker answers "exists" in one round trip. The topic exists.
                    ["PLUGINHOST__PIPELINES__readme-transform__SINK__CREATE_TOPICS"] = "false",
                };
                if (gen0Budget.Length > 0) environment["PLUGINHOST__MEMORY__GEN0_BUDGET"] = gen0Budget;
            }
            else config = Path.Combine(dir, "pluginhost.yaml");
            var describe = toml ? $"{ruleFile} (go-mysql-kafka's file; format prensio, the README's transform, no headers), {partitions} partitions, 3 mock brokers" : $"format {format}, {(!transform ? "no transform" : ruleFile.Length > 0 ? $"JavaScript rule {ruleFile}" : transformFile)}, {(headers.Length > 0 ? "no headers" : "4 headers")}" +
                           $"{(producer.Length > 0 ? ", producer: " + producer : "")}{exactlyOnce}, {partitions} partitions, 3 mock brokers";
            Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}; {describe}");

            // 1. First start: no checkpoint, nothing compiled before. 2. Restart after downtime: the host resumes from
            // its checkpoint in Kafka, and its transform comes from the compile cache in state_dir.
            var runs = restart ? new[] { "first start", "restart" } : ["first start"];
            for (var run = 0; run < runs.Length; run++)
            {
                WriteBacklog(db, rows, run * rows, txRows);
                await MeasureAsync(config, environment, metricsAt, cluster, rows, (run + 1L) * rows, runs[run], minutes, exactlyOnce.Length > 0);
            }
            var sample = cluster.ReadAll("bench.orders", TimeSpan.FromSeconds(60)).Take(1).Select(r => $"{r.Key} {r.Value}").FirstOrDefault();
            Console.WriteLine($"(wall-clock figures depend on what else runs on the machine: the load average is printed with each run)");
            Console.WriteLine($"sample record: {sample}");
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static string TransformLine(string root, bool transform, string file, string rule) =>
        !transform ? ""
        : rule.Length > 0 ? $"    transform: {{ rules: [ {{ name: bench, file: {Path.Combine(root, rule)} }} ] }}"
        : $"    transform: {Path.Combine(root, file)}";

    private static void WriteBacklog(ThrowawayMariaDb db, int rows, int offset, int txRows)
    {
        Console.WriteLine($"writing a backlog of {rows:N0} row changes in transactions of {txRows:N0} rows …");
        var sw = Stopwatch.StartNew();
        var script = new System.Text.StringBuilder();
        for (var from = offset + 1; from <= offset + rows; from += txRows)
        {
            script.Append($"INSERT INTO bench.orders SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100, seq % 50, '2026-01-01' + INTERVAL (seq % 86400) SECOND, " +
                          $"CONCAT('secret text ', seq) FROM seq_{from}_to_{Math.Min(offset + rows, from + txRows - 1)};\n");
            if (script.Length > 1 << 20 || from + txRows > offset + rows)
            {
                db.Sql(script.ToString(), "bench");
                script.Clear();
            }
        }
        Console.WriteLine($"backlog written in {sw.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>The host's collections and their pauses from its /metrics (null when it does not answer).</summary>
    private static async Task<string?> GcLineAsync(string listen, double seconds)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var text = await http.GetStringAsync($"http://{listen}/metrics");
            double Value(string series) => text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal)) is { } line
                ? double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
            var pause = Value("pluginhost_gc_pause_seconds_total");
            return $"{Value("pluginhost_gc_collections_total{generation=\"0\"}"):N0} collections of gen0 " +
                   $"({Value("pluginhost_gc_gen0_requested_total"):N0} asked for by memory.gen0_budget), {Value("pluginhost_gc_collections_total{generation=\"1\"}"):N0} of gen1, " +
                   $"{Value("pluginhost_gc_collections_total{generation=\"2\"}"):N0} of gen2; paused {pause:F2} s ({pause / seconds:P0} of the run from host start)";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>events_delivered of the newest checkpoint record (0 when none).</summary>
    private static long Delivered(KafkaMockCluster cluster) =>
        cluster.ReadAll("pluginhost.state").MaxBy(r => r.Offset)?.Value is { } v ? JsonNode.Parse(v)!["events_delivered"]!.GetValue<long>() : 0;

    /// <summary>Starts the host, waits until the topic holds <paramref name="target"/> records and the checkpoint says so, stops the host.</summary>
    private static async Task MeasureAsync(string config, IReadOnlyDictionary<string, string>? environment, string? metricsAt, KafkaMockCluster cluster, int rows, long target, string run, int minutes, bool exactlyOnce)
    {
        var before = cluster.Count("bench.orders");
        using var host = StartHost(config, environment);
        if (Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_TRACE") == "1") Console.WriteLine($"host process started at {DateTime.UtcNow:HH:mm:ss.fff}Z");
        // Diagnosis: PLUGINHOST_BENCH_PERF=FILE records the host with perf until the last event is acknowledged (run with
        // DOTNET_PerfMapEnabled=1 for .NET names).
        using var perf = Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_PERF") is { Length: > 0 } perfFile
            ? Process.Start(new ProcessStartInfo("perf") { ArgumentList = { "record", "-F", "999", "-g", "-p", host.Id.ToString(), "-o", perfFile }, RedirectStandardError = true })
            : null;
        try
        {
            var sw = Stopwatch.StartNew();
            var self = Process.GetCurrentProcess();
            var selfCpu0 = self.TotalProcessorTime;
            Stopwatch? sinceFirst = null;
            TimeSpan? hostCpuAtFirst = null;
            long countAtFirst = 0;
            long count;
            var report = Stopwatch.StartNew();
            while ((count = cluster.Count("bench.orders")) < target)
            {
                if (report.Elapsed > TimeSpan.FromSeconds(5))
                {
                    Console.WriteLine($"  {sw.Elapsed.TotalSeconds:F0} s: {count - before:N0} events acknowledged");
                    report.Restart();
                }
                if (sinceFirst is null && count > before)
                {
                    sinceFirst = Stopwatch.StartNew();
                    host.Refresh();
                    hostCpuAtFirst = host.TotalProcessorTime; // start-up and compile done: what follows is per-event work
                    countAtFirst = count - before;
                    if (Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_TRACE") == "1") Console.WriteLine($"first event acknowledged at {DateTime.UtcNow:HH:mm:ss.fff}Z");
                }
                if (host.HasExited) throw new InvalidOperationException($"the host exited ({host.ExitCode})");
                if (sw.Elapsed > TimeSpan.FromMinutes(minutes)) throw new TimeoutException($"only {count - before:N0} of {rows:N0} events after {minutes} minutes");
                await Task.Delay(50);
            }
            // Exactly once: the log's count includes a commit marker per partition and transaction, so the run ends when
            // the checkpoint (committed with the events) says every event is committed.
            while (exactlyOnce && Delivered(cluster) < target)
            {
                if (sw.Elapsed > TimeSpan.FromMinutes(minutes)) throw new TimeoutException($"not every event committed after {minutes} minutes");
                await Task.Delay(50);
            }
            var total = sw.Elapsed.TotalSeconds;
            var steady = sinceFirst?.Elapsed.TotalSeconds ?? total;
            host.Refresh();
            var hostCpu = host.TotalProcessorTime.TotalSeconds;
            self.Refresh();
            var clusterCpu = (self.TotalProcessorTime - selfCpu0).TotalSeconds;
            var rss = PeakRssMb(host.Id);
            var gc = metricsAt != null ? await GcLineAsync(metricsAt, total) : null;

            // The checkpoint follows the last acknowledged transaction: wait for it to reach the end.
            long delivered = 0;
            var wait = Stopwatch.StartNew();
            while (delivered < target && wait.Elapsed < TimeSpan.FromSeconds(30))
            {
                delivered = Delivered(cluster);
                if (delivered < target) await Task.Delay(200);
            }
            if (run != "first start") delivered -= target - rows; // the counter is the pipeline's total

            Console.WriteLine();
            Console.WriteLine($"{run} (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}): MariaDB → pluginhost → Kafka: {rows:N0} events acknowledged in {total:F2} s " +
                              $"from host start = {rows / total:N0} events/s (from the first acknowledged event: {rows / steady:N0} events/s)");
            var steadyCpu = hostCpuAtFirst is { } atFirst ? (hostCpu - atFirst.TotalSeconds) / Math.Max(1, rows - countAtFirst) * 1e6 : double.NaN;
            Console.WriteLine($"  CPU: host {hostCpu:F1} s ({hostCpu / rows * 1e6:F1} µs/event, start-up{(run == "first start" ? " and script compile" : "")} included; " +
                              $"{steadyCpu:F1} µs/event after the first acknowledged event), " +
                              $"mock cluster + this process {clusterCpu:F1} s ({clusterCpu / rows * 1e6:F1} µs/event); host peak RSS {rss:F0} MB; " +
                              $"checkpoint in Kafka: events_delivered = {delivered:N0}");
            if (gc != null) Console.WriteLine($"  GC (the host's /metrics): {gc}");
            Console.WriteLine();
        }
        finally
        {
            if (perf is { HasExited: false })
            {
                // Stopped, not killed: the runtime writes the rest of its perf map (the methods jitted last) on the way out.
                Process.Start("kill", ["-TERM", host.Id.ToString()])!.WaitForExit();
                host.WaitForExit(10_000);
                Process.Start("kill", ["-INT", perf.Id.ToString()])!.WaitForExit();
                perf.WaitForExit(60_000);
            }
            if (!host.HasExited) host.Kill(true);
            await host.WaitForExitAsync();
        }
    }
}
