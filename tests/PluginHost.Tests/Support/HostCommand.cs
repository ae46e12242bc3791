using System.Diagnostics;

namespace PluginHost.Tests.Support;

/// <summary>Runs one short-lived <c>pluginhost</c> command (built beside the tests) to its end, capturing its outputs.</summary>
public static class HostCommand
{
    /// <summary>What a finished command left behind.</summary>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs <c>dotnet pluginhost.dll ARGS</c>; a command still running after <paramref name="hangGuard"/> is killed and fails the test.</summary>
    public static Task<Result> RunAsync(TimeSpan hangGuard, params string[] args) => RunAsync(hangGuard, null, args);

    /// <summary>As <see cref="RunAsync(TimeSpan, string[])"/>, with environment changes: a null value removes the variable.</summary>
    public static async Task<Result> RunAsync(TimeSpan hangGuard, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "pluginhost.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} not found: the host must be built beside the tests");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(hangGuard);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pluginhost {string.Join(' ', args)} did not finish within {hangGuard}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
