using System.Diagnostics;

namespace PluginHost.Benchmarks;

/// <summary>
/// One busy neighbour process for the measured phase (<c>--neighbour</c>): <c>stress-ng --cpu 1</c> when installed,
/// else a shell spinning in a loop. Killed on dispose.
/// </summary>
internal sealed class Neighbour : IDisposable
{
    private readonly Process _process;

    private Neighbour(Process process, string what)
    {
        _process = process;
        What = what;
    }

    public string What { get; }

    public static Neighbour Start()
    {
        var stressNg = new[] { "/usr/bin/stress-ng", "/usr/local/bin/stress-ng" }.FirstOrDefault(File.Exists);
        var psi = stressNg != null
            ? new ProcessStartInfo(stressNg) { ArgumentList = { "--cpu", "1", "--quiet" } }
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "while :; do :; done" } };
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var p = Process.Start(psi)!;
        Thread.Sleep(500); // let it reach full speed
        return new Neighbour(p, stressNg != null ? "stress-ng --cpu 1" : "a shell spinning in a loop");
    }

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
