using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Cli;
using PluginHost.Demo;

namespace PluginHost.Benchmarks;

/// <summary>
/// Decodes one binlog file with <c>pluginhost decode</c> and with mariadb-binlog in the same run and prints them side by
/// side: first as whole processes, as users run them (<c>COMMAND FILE &gt; /dev/null</c>, the built host with its
/// ReadyToRun assemblies, alternating runs, medians, the load average), then our decoder in-process after warm-up.
/// </summary>
internal static class DecodeBenchmark
{
    public static int Run(string[] args)
    {
        var rows = IntOption(args, "--rows", 1_000_000);
        var runs = IntOption(args, "--runs", 5);
        var processRuns = IntOption(args, "--process-runs", 9);
        var path = StringOption(args, "--file", "") is { Length: > 0 } file ? file : BinlogFixture.Get(rows);
        var size = new FileInfo(path).Length;
        Console.WriteLine($"file: {path} ({size / 1e6:F1} MB), {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        WholeProcess(path, rows, processRuns);
        if (args.Contains("--process-only")) return 0;
        Console.WriteLine();
        Console.WriteLine("in-process, after warm-up (not what a user sees: no start-up, no JIT, no tiering):");

        // Warm-up (JIT, page cache).
        var counted = DecodeToEvents(path, out _);
        if (counted != rows) throw new InvalidOperationException($"decoded {counted} rows, expected {rows}");
        DecodeToJson(path);

        DecodeToSdkEvents(path, out _);
        var events = Measure(runs, () => DecodeToEvents(path, out _));
        long allocated = 0;
        DecodeToEvents(path, out allocated);
        var sdkEvents = Measure(runs, () => DecodeToSdkEvents(path, out _));
        DecodeToSdkEvents(path, out var sdkAllocated);
        var json = Measure(runs, () => { DecodeToJson(path); return rows; });
        var oracle = Measure(Math.Min(runs, 3), () => { RunMariaDbBinlog(path); return rows; });

        Console.WriteLine();
        Console.WriteLine($"{"decoder",-50} {"best s",8} {"median s",9} {"rows/s",14}");
        Print("PluginHost: file → row events (ColumnValue[])", events, rows);
        Print("PluginHost: file → sdk ChangeEvents (all values)", sdkEvents, rows);
        Print("PluginHost: file → JSON lines (decode's writer)", json, rows);
        Print("mariadb-binlog -v --base64-output=decode-rows", oracle, rows);
        Console.WriteLine();
        Console.WriteLine($"allocated per row: file → row events {allocated / (double)rows:F1} bytes (text and DECIMAL stay slices of the event buffer), " +
                          $"file → sdk ChangeEvents {sdkAllocated / (double)rows:F1} bytes (every value a .NET object: strings, decimals, DateTimes)");
        Console.WriteLine($"speed-up over mariadb-binlog: row events {oracle.Median / events.Median:F1}x, sdk ChangeEvents {oracle.Median / sdkEvents.Median:F1}x, " +
                          $"JSON {oracle.Median / json.Median:F1}x (medians)");
        return 0;
    }

    /// <summary>The command as users run it, alternating with mariadb-binlog: medians of wall, CPU and peak RSS.</summary>
    private static void WholeProcess(string path, long rows, int runs)
    {
        var mariadbBinlog = ThrowawayMariaDb.FindTool("mariadb-binlog");
        Console.WriteLine($"whole process, {runs} alternating runs each, stdout to /dev/null; host: {HostDll()}");
        Console.WriteLine($"load average before: {WholeProcessTiming.LoadAverage()}");
        var results = WholeProcessTiming.Run(runs,
            new WholeProcessTiming.Command("pluginhost decode FILE", ["dotnet", HostDll(), "decode", path]),
            new WholeProcessTiming.Command("mariadb-binlog -v --base64-output=decode-rows FILE",
                [mariadbBinlog, "--no-defaults", "-v", "--base64-output=decode-rows", path]));
        Console.WriteLine($"load average after:  {WholeProcessTiming.LoadAverage()}");
        Console.WriteLine($"{"command",-52} {"wall s",8} {"best s",8} {"cpu s",7} {"RSS MB",7} {"rows/s (wall)",14}");
        foreach (var r in results)
            Console.WriteLine($"{r.Label,-52} {r.WallMedian,8:F3} {r.WallBest,8:F3} {r.CpuMedian,7:F2} {r.RssMbMedian,7:F0} {rows / r.WallMedian,14:N0}");
        Console.WriteLine($"pluginhost decode vs mariadb-binlog (medians): wall {results[1].WallMedian / results[0].WallMedian:F2}x, " +
                          $"CPU {results[1].CpuMedian / results[0].CpuMedian:F2}x (above 1 = pluginhost faster)");
    }

    private static long DecodeToEvents(string path, out long allocatedBytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        long count = 0;
        using (var reader = new BinlogFileReader(path))
        {
            while (reader.ReadEvent() is { } e)
                if (e is RowsEvent r) count += r.Rows.Count;
        }
        allocatedBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return count;
    }

    /// <summary>What the pipeline's reader does: every row becomes an sdk <c>ChangeEvent</c> with every value materialised.</summary>
    private static long DecodeToSdkEvents(string path, out long allocatedBytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var factory = new PluginHost.Schema.ChangeEventFactory();
        long count = 0;
        using (var reader = new BinlogFileReader(path))
        {
            while (reader.ReadEvent() is { } e)
            {
                if (e is not RowsEvent r) continue;
                var info = factory.TableInfoOf(r.Table);
                foreach (var row in r.Rows)
                    if (factory.Create(r, row, info).After is not null) count++;
            }
        }
        allocatedBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return count;
    }

    private static void DecodeToJson(string path)
    {
        using var sink = Stream.Null;
        DecodeCommand.Decode(path, sink);
    }

    private static void RunMariaDbBinlog(string path)
    {
        var psi = new ProcessStartInfo(ThrowawayMariaDb.FindTool("mariadb-binlog"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "--no-defaults", "-v", "--base64-output=decode-rows", path }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.BaseStream.CopyTo(Stream.Null);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"mariadb-binlog failed: {err.Result}");
    }

    private sealed record Timing(double Best, double Median);

    private static Timing Measure(int runs, Func<long> action)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return new Timing(times[0], times[times.Count / 2]);
    }

    private static void Print(string name, Timing t, long rows) =>
        Console.WriteLine($"{name,-50} {t.Best,8:F3} {t.Median,9:F3} {rows / t.Median,14:N0}");

}
