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
        var partitions = IntOption(args, "--partitions", 6);
        var minutes = IntOption(args, "--minutes", 5);
        var headers = args.Contains("--no-headers") ? ", headers: []" : "";
        var producer = StringOption(args, "--producer", ""); // e.g. "compression.type: lz4"
        var gen0Budget = StringOption(args, "--gen0-budget", ""); // memory.gen0_budget (bytes; 0: the runtime decides)
        var root = RepoRoot();
        var plugins = Path.Combine(root, "artifacts", "plugins");
        if (!File.Exists(Path.Combine(plugins, "Kafka", "PluginHost.Plugins.Kafka.dll")))
            throw new InvalidOperationException($"the Kafka plugin is not built into {plugins}/Kafka (build the solution or this project first)");

        using var db = new ThrowawayMariaDb();
        db.Sql("CREATE DATABASE bench; CREATE TABLE bench.orders (id INT NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL, " +
               "qty INT NOT NULL, created DATETIME NOT NULL, text_col VARCHAR(40) NOT NULL);");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        Console.WriteLine($"writing a backlog of {rows:N0} row changes …");
        var sw = Stopwatch.StartNew();
        for (var from = 1; from <= rows; from += 100_000)
            db.Sql($"INSERT INTO bench.orders SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100, seq % 50, '2026-01-01' + INTERVAL (seq % 86400) SECOND, " +
                   $"CONCAT('secret text ', seq) FROM seq_{from}_to_{Math.Min(rows, from + 99_999)};", "bench");
        Console.WriteLine($"backlog written in {sw.Elapsed.TotalSeconds:F1} s");

        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("bench.orders", partitions);
        cluster.CreateTopic("pluginhost.state", 1);
        var dir = Directory.CreateTempSubdirectory("pluginhost-kafka-bench-").FullName;
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
            {{(transform ? $"    transform: {Path.Combine(root, "transforms", "obfuscate.csx")}" : "")}}
                sink: { type: kafka, bootstrap_servers: "{{cluster.BootstrapServers}}", format: {{format}}, create_topics: false{{headers}}{{(producer.Length > 0 ? $", producer: {{ {producer} }}" : "")}} }
                checkpoint: { type: kafka, settings: { create_topic: false } }
            """);
        using var host = StartHost(Path.Combine(dir, "pluginhost.yaml"));
        try
        {
            sw.Restart();
            var self = Process.GetCurrentProcess();
            var selfCpu0 = self.TotalProcessorTime;
            Stopwatch? sinceFirst = null;
            long count;
            var report = Stopwatch.StartNew();
            while ((count = cluster.Count("bench.orders")) < rows)
            {
                if (report.Elapsed > TimeSpan.FromSeconds(5))
                {
                    Console.WriteLine($"  {sw.Elapsed.TotalSeconds:F0} s: {count:N0} events acknowledged");
                    report.Restart();
                }
                if (sinceFirst is null && count > 0) sinceFirst = Stopwatch.StartNew();
                if (host.HasExited) throw new InvalidOperationException($"the host exited ({host.ExitCode})");
                if (sw.Elapsed > TimeSpan.FromMinutes(minutes)) throw new TimeoutException($"only {count:N0} of {rows:N0} events after {minutes} minutes");
                await Task.Delay(100);
            }
            var total = sw.Elapsed.TotalSeconds;
            var steady = sinceFirst?.Elapsed.TotalSeconds ?? total;
            host.Refresh();
            var hostCpu = host.TotalProcessorTime.TotalSeconds;
            self.Refresh();
            var clusterCpu = (self.TotalProcessorTime - selfCpu0).TotalSeconds;
            var rss = PeakRssMb(host.Id);

            // The checkpoint follows the last acknowledged transaction: wait for it to reach the end.
            long delivered = 0;
            var wait = Stopwatch.StartNew();
            while (delivered < rows && wait.Elapsed < TimeSpan.FromSeconds(30))
            {
                var last = cluster.ReadAll("pluginhost.state").MaxBy(r => r.Offset);
                delivered = last?.Value is { } v ? JsonNode.Parse(v)!["events_delivered"]!.GetValue<long>() : 0;
                if (delivered < rows) await Task.Delay(200);
            }
            var sample = cluster.ReadAll("bench.orders", TimeSpan.FromSeconds(60)).Take(1).Select(r => $"{r.Key} {r.Value}").FirstOrDefault();

            Console.WriteLine();
            Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}; format {format}, {(transform ? "obfuscate.csx transform" : "no transform")}, " +
                              $"{(headers.Length > 0 ? "no headers" : "4 headers")}{(producer.Length > 0 ? ", producer: " + producer : "")}, {partitions} partitions, 3 mock brokers; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"MariaDB → pluginhost → Kafka: {rows:N0} events acknowledged in {total:F2} s from host start = {rows / total:N0} events/s " +
                              $"(from the first acknowledged event: {rows / steady:N0} events/s)");
            Console.WriteLine($"CPU: host {hostCpu:F1} s ({hostCpu / rows * 1e6:F1} µs/event, start-up and script compile included), " +
                              $"mock cluster + this process {clusterCpu:F1} s ({clusterCpu / rows * 1e6:F1} µs/event); host peak RSS {rss:F0} MB");
            Console.WriteLine($"(wall-clock figures depend on what else runs on the machine: the load average is printed above)");
            Console.WriteLine($"checkpoint in Kafka: events_delivered = {delivered:N0}");
            Console.WriteLine($"sample record: {sample}");
            return 0;
        }
        finally
        {
            if (!host.HasExited) host.Kill(true);
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }



}
