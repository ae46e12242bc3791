using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Scripting.JavaScript;
using PluginHost.Sdk;

namespace PluginHost.Benchmarks;

/// <summary>
/// The host's JavaScript transforms per event, as a pipeline's writer runs them (<see cref="JsTransform.Apply"/>): the
/// README script as a prensio rule and the same logic on the native contract, in wall ns, process CPU ns (load-independent
/// as far as anything is: it includes the collector's work) and bytes allocated per event. <c>transform --js-only</c>
/// prints just this.
/// </summary>
internal static class JsTransformCost
{
    public static async Task<int> RunAsync(int events, int rounds)
    {
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = PluginDirectories.BuiltPlugins, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync();
        await ReportAsync(plugins.Current, events, rounds);
        return 0;
    }

    public static Task ReportAsync(IReadOnlyList<HelperAssembly> helpers, int events, int rounds)
    {
        var rule = new TransformRule("readme", new System.Text.RegularExpressions.Regex(""), new System.Text.RegularExpressions.Regex(""), null, TransformBenchmark.JavaScript);
        var ruleSource = JavaScriptTransformSource.Rules("bench", [rule], f => f);
        using var prensio = (JsTransform)ruleSource.Build("transform.rules", ruleSource.Read(), helpers, TimeSpan.FromSeconds(1)).Loaded!;
        var emptyRule = new TransformRule("empty", new System.Text.RegularExpressions.Regex(""), new System.Text.RegularExpressions.Regex(""), null, "function transform(cdc_event) { return ACTION_CONT }");
        var emptySource = JavaScriptTransformSource.Rules("bench", [emptyRule], f => f);
        using var empty = (JsTransform)emptySource.Build("transform.rules", emptySource.Read(), helpers, TimeSpan.FromSeconds(1)).Loaded!;
        using var native = (JsTransform)JavaScriptTransformSource.Native("bench", "native.js").Build("native.js", TransformBenchmark.NativeJavaScript, helpers, TimeSpan.FromSeconds(1)).Loaded!;
        for (var warm = Stopwatch.StartNew(); warm.Elapsed < TimeSpan.FromSeconds(3);)
        {
            Measure(prensio, 2_000);
            Measure(native, 2_000);
            Measure(empty, 2_000);
        }
        var p = new List<(double Wall, double Cpu, double Bytes)>();
        var n = new List<(double Wall, double Cpu, double Bytes)>();
        var z = new List<(double Wall, double Cpu, double Bytes)>();
        for (var r = 0; r < rounds; r++)
        {
            GC.Collect();
            p.Add(Measure(prensio, events));
            GC.Collect();
            n.Add(Measure(native, events));
            GC.Collect();
            z.Add(Measure(empty, events));
        }
        Console.WriteLine($"host JavaScript transforms, {events:N0} events x {rounds} rounds (medians; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        Console.WriteLine("                                                 wall ns/event  CPU ns/event  bytes/event");
        Print("JS  host: README script as a prensio rule", p);
        Print("JS  host: same logic, native contract", n);
        Print("JS  host: an empty prensio rule (the crossing)", z);
        return Task.CompletedTask;
    }

    private static void Print(string name, List<(double Wall, double Cpu, double Bytes)> runs) =>
        Console.WriteLine($"  {name,-46} {Median(runs.Select(r => r.Wall)),12:F0}  {Median(runs.Select(r => r.Cpu)),12:F0}  {Median(runs.Select(r => r.Bytes)),11:F0}");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Events made in batches of 1000 outside the clock; the transform applied to each, as the writer does.</summary>
    private static (double Wall, double Cpu, double Bytes) Measure(JsTransform t, int count)
    {
        var output = new List<ChangeEvent>(4);
        long ticks = 0;
        var cpu = TimeSpan.Zero;
        long bytes = 0;
        var process = Process.GetCurrentProcess();
        for (var done = 0; done < count; done += 1000)
        {
            var events = TransformBenchmark.MakeEvents(1000);
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var bytes0 = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            foreach (var e in events)
            {
                output.Clear();
                t.Apply(e, output);
            }
            ticks += Stopwatch.GetTimestamp() - start;
            bytes += GC.GetAllocatedBytesForCurrentThread() - bytes0;
            process.Refresh();
            cpu += process.TotalProcessorTime - cpu0;
        }
        var rounded = (count + 999) / 1000 * 1000;
        return (TimeSpan.FromTicks(ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalNanoseconds / rounded, cpu.TotalNanoseconds / rounded, (double)bytes / rounded);
    }
}
