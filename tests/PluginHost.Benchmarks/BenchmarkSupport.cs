namespace PluginHost.Benchmarks;

/// <summary>Small helpers the benchmarks share: command-line options and process measurements.</summary>
internal static class BenchmarkSupport
{
    /// <summary>Prints the load average (1, 5, 15 minutes), so figures from a busy machine are read as such.</summary>
    public static void PrintLoad()
    {
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        Console.WriteLine($"load average: {load} ({Environment.ProcessorCount} CPUs)");
    }

    /// <summary>The repository root (where PluginHost.sln is).</summary>
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PluginHost.sln"))) return d.FullName;
        throw new InvalidOperationException("PluginHost.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The host as its own Release build made it (host/bin/Release, with its ReadyToRun-compiled assemblies), which
    /// is what users run; this project's copy of pluginhost.dll sits beside IL-only compiler assemblies.
    /// </summary>
    public static string HostDll()
    {
        // PLUGINHOST_BENCH_HOST=DLL: another build of the host (a copy of an older one, say), for before/after runs.
        if (Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_HOST") is { Length: > 0 } other) return other;
        var built = Path.Combine(RepoRoot(), "host", "bin", "Release", "net10.0", "pluginhost.dll");
        return File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "pluginhost.dll");
    }

    /// <summary>Starts <c>pluginhost run --config CONFIG</c> (see <see cref="HostDll"/>), its log lines on our stderr.</summary>
    public static System.Diagnostics.Process StartHost(string config, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        SetHostEnvironment(psi);
        foreach (var a in new[] { HostDll(), "run", "--config", config }) psi.ArgumentList.Add(a);
        var host = System.Diagnostics.Process.Start(psi)!;
        // PLUGINHOST_BENCH_TRACE=1: each line stamped with the time it arrived (ms), to see where a start goes.
        var stamp = Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_TRACE") == "1";
        host.ErrorDataReceived += (_, e) => { if (e.Data != null) Console.Error.WriteLine((stamp ? $"{DateTime.UtcNow:HH:mm:ss.fff} " : "") + "host: " + e.Data); };
        host.OutputDataReceived += (_, _) => { };
        host.BeginErrorReadLine();
        host.BeginOutputReadLine();
        return host;
    }

    /// <summary>
    /// Diagnosis: PLUGINHOST_BENCH_HOST_ENV="NAME=VALUE;…" sets variables for the host process only (runtime settings,
    /// DOTNET_JitStdOutFile, …), then <paramref name="more"/> in the same form.
    /// </summary>
    public static void SetHostEnvironment(System.Diagnostics.ProcessStartInfo psi, string? more = null)
    {
        foreach (var pair in (Environment.GetEnvironmentVariable("PLUGINHOST_BENCH_HOST_ENV") + ";" + more).Split(';', StringSplitOptions.RemoveEmptyEntries))
            psi.Environment[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
    }

    /// <summary>A loopback TCP port free right now.</summary>
    public static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static int IntOption(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }

    public static string StringOption(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>Peak resident set size (VmHWM) of a process, in MB.</summary>
    public static double PeakRssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return 0;
    }
}
