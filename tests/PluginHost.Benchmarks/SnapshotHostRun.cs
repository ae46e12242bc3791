using System.Diagnostics;
using System.Text.Json;
using static PluginHost.Benchmarks.BenchmarkSupport;

namespace PluginHost.Benchmarks;

/// <summary>
/// The snapshot as users run it: <c>pluginhost run</c> (the built host, <see cref="HostDll"/>) with one pipeline,
/// <c>snapshot: { mode: initial_only }</c>, into the file sink, no API: timed from process start until the host logs
/// the pipeline completed, and until the process exits by itself (its only pipeline completed: a one-shot job). Its
/// peak RSS (VmHWM) and CPU time are sampled every few milliseconds while it runs (the last sample counts).
/// </summary>
internal static class SnapshotHostRun
{
    /// <param name="CpuSeconds">The host's CPU time (user + system) from start to exit.</param>
    /// <param name="ToExit">Seconds from process start until it exited by itself.</param>
    public sealed record Result(double FromStart, double FromFirstRow, double PeakRssMb, long Bytes, double CpuSeconds, double ToExit);

    /// <param name="pipelineExtra">More keys of the pipeline (one YAML line, e.g. <c>queue_bytes: 64MiB</c>), for diagnosis.</param>
    /// <param name="sinkExtra">More keys of the file sink (e.g. <c>fsync: false</c>), for diagnosis.</param>
    /// <param name="hostDll">The host build to run (default <see cref="HostDll"/>): another build, to compare two in one run.</param>
    public static async Task<Result> RunAsync(int port, string dir, int rows, int chunkSize, string pipelineExtra = "", string sinkExtra = "", string? hostDll = null)
    {
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "pluginhost.yaml");
        var outFile = Path.Combine(dir, "out.jsonl");
        File.WriteAllText(config, $$"""
            state_dir: state
            server: { enabled: false }
            pipelines:
              - name: snap
                source: { host: 127.0.0.1, port: {{port}}, user: root, password: "", server_id: 778, ssl: none }
                filter: { include: ["bench.orders"] }
                snapshot: { mode: initial_only, chunk_size: {{chunkSize}} }
                sink: { type: file, path: out.jsonl{{(sinkExtra.Length > 0 ? ", " + sinkExtra : "")}} }
                {{pipelineExtra}}
            """);
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tail = new Queue<string>();
        var echo = Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_LOG") is { Length: > 0 }; // diagnosis: each host line with its time since start
        var clock = Stopwatch.StartNew();
        void OnLine(string? line)
        {
            if (line is null) return;
            if (echo) Console.Error.WriteLine($"  +{clock.Elapsed.TotalSeconds:0.000} s {line}");
            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > 20) tail.Dequeue();
            }
            if (line.Contains("initial_only snapshot completed", StringComparison.Ordinal)) completed.TrySetResult();
            else if (line.Contains("pipeline snap: failed", StringComparison.Ordinal)) failed.TrySetResult(line);
        }
        // Diagnosis: PLUGINHOST_BENCH_PERF_START=FILE runs the host under perf from its first instruction (its RSS and CPU are then perf's).
        var perfStart = Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_PERF_START");
        var psi = new ProcessStartInfo(perfStart is { Length: > 0 } ? "perf" : "dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        if (perfStart is { Length: > 0 })
            foreach (var a in new[] { "record", "-F", Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_PERF_FREQ") ?? "499", "-g", "-o", perfStart, "--", "dotnet" }) psi.ArgumentList.Add(a);
        // A build given as DLL@NAME=VALUE;… runs with those variables (to compare runtime settings on one build).
        var env = hostDll?.Split('@', 2) is [var dll, var vars] ? (hostDll = dll, vars).vars : "";
        foreach (var a in new[] { hostDll ?? HostDll(), "run", "--config", config }) psi.ArgumentList.Add(a);
        SetHostEnvironment(psi, env);
        clock.Restart();
        using var host = Process.Start(psi)!;
        host.ErrorDataReceived += (_, e) => OnLine(e.Data);
        host.OutputDataReceived += (_, e) => OnLine(e.Data);
        host.BeginErrorReadLine();
        host.BeginOutputReadLine();
        // Diagnosis: PLUGINHOST_BENCH_PERF=FILE records the host with perf (run with DOTNET_PerfMapEnabled=1 for .NET names).
        using var perf = Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_PERF") is { Length: > 0 } perfFile
            ? Process.Start(new ProcessStartInfo("perf") { ArgumentList = { "record", "-F", Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_PERF_FREQ") ?? "499", "-g", "-p", host.Id.ToString(), "-o", perfFile }, RedirectStandardError = true })
            : null;
        try
        {
            double? firstRow = null, completedAt = null;
            double peak = 0, cpu = 0;
            while (!host.HasExited)
            {
                if (failed.Task.IsCompleted) throw new InvalidOperationException("host: " + failed.Task.Result);
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the snapshot did not complete within 10 minutes");
                if (firstRow is null && File.Exists(outFile) && new FileInfo(outFile).Length > 0) firstRow = clock.Elapsed.TotalSeconds;
                if (completedAt is null && completed.Task.IsCompleted) completedAt = clock.Elapsed.TotalSeconds;
                try
                {
                    peak = Math.Max(peak, PeakRssMb(host.Id));
                    cpu = CpuSeconds(host.Id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
                {
                    // exiting: the last sample stands
                }
                await Task.WhenAny(completed.Task, Task.Delay(5));
                if (completedAt is null && completed.Task.IsCompleted) completedAt = clock.Elapsed.TotalSeconds;
            }
            var toExit = clock.Elapsed.TotalSeconds;
            host.WaitForExit(); // (its output read to the end)
            if (!completed.Task.IsCompleted || host.ExitCode != 0)
                throw new InvalidOperationException($"the host exited ({host.ExitCode}) without completing the snapshot:\n{string.Join("\n", tail)}");
            var total = completedAt ?? toExit;
            var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state", "snap.checkpoint.json"))).RootElement;
            var table = checkpoint.GetProperty("snapshot").GetProperty("tables")[0];
            if (!checkpoint.GetProperty("snapshot").GetProperty("completed").GetBoolean() || table.GetProperty("rows").GetInt64() != rows)
                throw new InvalidOperationException($"the checkpoint does not say {rows:N0} rows completed: {checkpoint}");
            var lines = File.ReadLines(outFile).LongCount();
            if (lines != rows) throw new InvalidOperationException($"the file holds {lines:N0} lines, expected {rows:N0}");
            return new Result(total, total - (firstRow ?? 0), peak, new FileInfo(outFile).Length, cpu, toExit);
        }
        finally
        {
            if (perf is { HasExited: false })
            {
                Process.Start("kill", ["-INT", perf.Id.ToString()])!.WaitForExit();
                perf.WaitForExit(60_000);
            }
            if (!host.HasExited) host.Kill(true); // (a failed run)
        }
    }

    /// <summary>User + system CPU seconds of a process so far (/proc/PID/stat, clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime, stime (fields 14 and 15)
    }
}
