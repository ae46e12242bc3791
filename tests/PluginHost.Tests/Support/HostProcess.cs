using System.Diagnostics;

namespace PluginHost.Tests.Support;

/// <summary>Runs the real <c>pluginhost</c> executable (built beside the tests) as a child process.</summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private HostProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>Where the child's stdout/stderr are appended.</summary>
    public string LogPath { get; private init; } = "";

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public static HostProcess Start(string logPath, params string[] args) => Launch(null, null, logPath, args);

    /// <summary>Starts the host with <paramref name="workingDirectory"/> as its current folder (null: the tests').</summary>
    public static HostProcess StartIn(string? workingDirectory, string logPath, params string[] args) => Launch(workingDirectory, null, logPath, args);

    /// <summary>Starts the host with extra environment variables (e.g. <c>TZ</c>).</summary>
    public static HostProcess Start(string logPath, IReadOnlyDictionary<string, string>? environment, params string[] args) => Launch(null, environment, logPath, args);

    private static HostProcess Launch(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, string logPath, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "pluginhost.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} not found: the host must be built beside the tests");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new HostProcess(p, log) { LogPath = logPath };
    }

    /// <summary>Waits for the process to exit by itself (a one-shot command); false when it is still running.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // and for its output to be read
        return true;
    }

    /// <summary>The exit code (after <see cref="WaitForExit"/>).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>kill -9: no chance to flush or checkpoint.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then wait for a graceful exit.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        Posix.Kill(_process.Id, 15);
        if (!_process.WaitForExit(timeout)) return false;
        // A wait with a timeout does not wait for the redirected output: the last lines (the drain warning, written just
        // before exit) could still be in the pipe when the caller reads the log (a CI run missed one).
        _process.WaitForExit();
        return true;
    }

    public string ReadLog()
    {
        lock (_log) _log.Flush();
        using var f = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(f).ReadToEnd();
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
