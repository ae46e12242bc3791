using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Cli;
using PluginHost.Demo;

namespace PluginHost.Benchmarks;

/// <summary>Decodes one binlog file with our decoder and with mariadb-binlog in the same run and prints rows/s side by side.</summary>
internal static class DecodeBenchmark
{
    public static int Run(string[] args)
    {
        var rows = IntOption(args, "--rows", 1_000_000);
        var runs = IntOption(args, "--runs", 5);
        var path = BinlogFixture.Get(rows);
        var size = new FileInfo(path).Length;
        Console.WriteLine($"file: {path} ({size / 1e6:F1} MB), {Environment.ProcessorCount} cores, .NET {Environment.Version}");

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
        Print("PluginHost: file → JSON lines (pluginhost decode)", json, rows);
        Print("mariadb-binlog -v --base64-output=decode-rows", oracle, rows);
        Console.WriteLine();
        Console.WriteLine($"allocated per row: file → row events {allocated / (double)rows:F1} bytes (text and DECIMAL stay slices of the event buffer), " +
                          $"file → sdk ChangeEvents {sdkAllocated / (double)rows:F1} bytes (every value a .NET object: strings, decimals, DateTimes)");
        Console.WriteLine($"speed-up over mariadb-binlog: row events {oracle.Median / events.Median:F1}x, sdk ChangeEvents {oracle.Median / sdkEvents.Median:F1}x, " +
                          $"JSON {oracle.Median / json.Median:F1}x (medians)");
        return 0;
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
