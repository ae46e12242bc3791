using System.Diagnostics;
using System.Globalization;

namespace PluginHost.Benchmarks;

/// <summary>
/// Times whole commands as users run them (<c>COMMAND &gt; /dev/null</c> through /bin/sh, the shell's own redirection):
/// several commands alternating run by run, so that the machine's load falls on each alike; medians of wall time, CPU
/// time (user + system) and peak RSS, measured by GNU time when it is installed.
/// </summary>
internal static class WholeProcessTiming
{
    public sealed record Command(string Label, string[] Argv);

    public sealed record Result(string Label, double WallMedian, double WallBest, double CpuMedian, double RssMbMedian, int Runs);

    /// <summary>The load average line of /proc/loadavg (1, 5 and 15 minutes), or "?" where there is none.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    public static IReadOnlyList<Result> Run(int runs, params Command[] commands)
    {
        var time = File.Exists("/usr/bin/time") ? "/usr/bin/time" : null;
        var samples = commands.ToDictionary(c => c.Label, _ => new List<(double Wall, double Cpu, double RssMb)>());
        var metrics = Path.GetTempFileName();
        try
        {
            for (var run = 0; run < runs; run++)
                foreach (var c in run % 2 == 0 ? commands : commands.Reverse())
                    samples[c.Label].Add(Once(c, time, metrics));
        }
        finally
        {
            File.Delete(metrics);
        }
        return commands.Select(c =>
        {
            var s = samples[c.Label];
            return new Result(c.Label, Median(s.Select(x => x.Wall)), s.Min(x => x.Wall), Median(s.Select(x => x.Cpu)), Median(s.Select(x => x.RssMb)), s.Count);
        }).ToList();
    }

    private static (double Wall, double Cpu, double RssMb) Once(Command c, string? time, string metrics)
    {
        var line = string.Join(' ', c.Argv.Select(Quote)) + " > /dev/null";
        if (time != null) line = $"{time} -o {Quote(metrics)} -f '%U %S %M' {line}";
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(line);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        var wall = sw.Elapsed.TotalSeconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{c.Label} failed ({p.ExitCode}): {err}");
        if (time == null) return (wall, double.NaN, double.NaN);
        var f = File.ReadAllText(metrics).Trim().Split('\n')[^1].Split(' ');
        var cpu = double.Parse(f[0], CultureInfo.InvariantCulture) + double.Parse(f[1], CultureInfo.InvariantCulture);
        return (wall, cpu, double.Parse(f[2], CultureInfo.InvariantCulture) / 1024);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
