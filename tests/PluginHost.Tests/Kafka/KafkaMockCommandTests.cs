using System.Diagnostics;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// <c>pluginhost kafka-mock</c> as a real process: it prints the bootstrap servers of a working mock cluster (a topic
/// made with <c>--topic</c> has its partitions, kcat produces to it and reads back), and stops on SIGTERM with exit 0.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KafkaMockCommandTests
{
    [Fact]
    public async Task Kafka_mock_prints_bootstrap_servers_that_kcat_can_produce_to_and_read_back()
    {
        var log = Path.Combine(TestTemp.CreateSubdirectory("kafka-mock").FullName, "kafka-mock.log");
        using var mock = HostProcess.Start(log, "kafka-mock", "--brokers", "1", "--topic", "orders:2", "--seconds", "120");
        await Poll.UntilAsync(() => mock.ReadLog().Contains("kafka-mock: read a topic") || mock.HasExited, TimeSpan.FromSeconds(60), () => "the bootstrap servers and hints");
        var bootstrap = BootstrapLine(mock);
        Assert.True(bootstrap != null, mock.ReadLog());
        Assert.Matches(@"^127\.0\.0\.1:\d+$", bootstrap);
        Assert.Contains("kafka-mock: a pipeline's sink: { type: kafka, bootstrap_servers: \"" + bootstrap + "\" }", mock.ReadLog());
        Assert.Contains("a pipeline's warning that the cluster refuses to create topics is expected with the mock", mock.ReadLog());

        var metadata = await KcatAsync(null, "-L", "-b", bootstrap!, "-t", "orders");
        Assert.Contains("topic \"orders\" with 2 partitions", metadata);
        await KcatAsync("k1:hello\nk2:world\n", "-P", "-b", bootstrap!, "-t", "orders", "-K", ":");
        var read = await KcatAsync(null, "-C", "-b", bootstrap!, "-t", "orders", "-e", "-q", "-f", "%k=%s\\n");
        Assert.Equal(["k1=hello", "k2=world"], read.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        Assert.True(mock.Terminate(TimeSpan.FromSeconds(30)), "kafka-mock did not stop on SIGTERM");
        Assert.Equal(0, mock.ExitCode);
        // The last stderr line may reach the log a moment after the exit (the output is drained asynchronously).
        await Poll.UntilAsync(() => mock.ReadLog().Contains("kafka-mock: stopped"), TimeSpan.FromSeconds(10), () => "the stopped line:\n" + mock.ReadLog());
    }

    /// <summary>The first line of the log that is a bootstrap server list (the command's only stdout line).</summary>
    private static string? BootstrapLine(HostProcess mock) =>
        mock.ReadLog().Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("127.0.0.1:", StringComparison.Ordinal));

    private static async Task<string> KcatAsync(string? input, params string[] args)
    {
        var psi = new ProcessStartInfo("kcat", args) { RedirectStandardInput = input != null, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        if (input != null)
        {
            await p.StandardInput.WriteAsync(input);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(guard.Token);
        Assert.True(p.ExitCode == 0, $"kcat {string.Join(' ', args)}: exit {p.ExitCode}: {await stderr}");
        return await stdout;
    }
}
