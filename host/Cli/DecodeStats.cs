using System.Diagnostics;
using System.Runtime;

namespace PluginHost.Cli;

/// <summary><c>pluginhost decode --stats</c>: where the time of the whole process went, on standard error.</summary>
internal static class DecodeStats
{
    public static void Print(TextWriter error, long rows, long commandStarted)
    {
        var now = DateTime.Now;
        var command = Stopwatch.GetElapsedTime(commandStarted).TotalSeconds;
        using var process = Process.GetCurrentProcess();
        var sinceStart = (now - process.StartTime).TotalSeconds;
        error.WriteLine(
            $"pluginhost decode: {rows:N0} rows in {sinceStart:F3} s since the process started ({sinceStart - command:F3} s before the command ran); " +
            $"CPU {process.TotalProcessorTime.TotalSeconds:F3} s; JIT {JitInfo.GetCompilationTime(currentThread: true).TotalMilliseconds:F0} ms on the main thread, " +
            $"{JitInfo.GetCompilationTime().TotalMilliseconds:F0} ms in all, {JitInfo.GetCompiledMethodCount()} methods; " +
            $"GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, {GC.GetTotalAllocatedBytes() / 1e6:F1} MB allocated, " +
            $"peak working set {process.PeakWorkingSet64 / 1e6:F0} MB");
    }
}
