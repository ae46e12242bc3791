using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using PluginHost.Config;

namespace PluginHost.Cli;

/// <summary>
/// <c>kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]... [--seconds N]</c>: librdkafka's mock cluster (the real Kafka
/// protocol on loopback ports, in this process, nothing kept) to try the Kafka sink without a broker. Prints the
/// bootstrap servers as the only line on stdout, then runs until Ctrl+C or SIGTERM. Loads the librdkafka the Kafka
/// plugin loads (<see cref="KafkaMockNative"/>).
/// </summary>
internal static class KafkaMockCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers") { Description = "Number of brokers (1-9)", HelpName = "N", DefaultValueFactory = _ => 3 };
        brokers.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 9) r.AddError("--brokers must be 1 to 9");
        });
        var topics = new Option<string[]>("--topic")
        {
            Description = "Create a topic first, with PARTITIONS partitions (default 4; other topics are created on first use with 4)",
            HelpName = "NAME[:PARTITIONS]",
            AllowMultipleArgumentsPerToken = false,
        };
        var plugins = new Option<string>("--plugins")
            { Description = "The plugins folder whose Kafka plugin's librdkafka to load (default: the plugins built or shipped with the host)", HelpName = "DIR" };
        var seconds = CliOptions.Seconds();
        var command = new Command("kafka-mock", "Start librdkafka's mock Kafka cluster on loopback ports and print its bootstrap servers, to try the Kafka " +
                                                "sink without a broker (nothing is kept)") { brokers, topics, plugins, seconds };
        command.SetAction((r, _) => RunAsync(r.GetValue(brokers), r.GetValue(topics) ?? [], r.GetValue(plugins) ?? PluginDirectories.BuiltPlugins,
            r.GetValue(seconds), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static async Task<int> RunAsync(int brokers, string[] topics, string pluginsDir, int seconds, TextWriter output, TextWriter error)
    {
        var wanted = new List<(string Name, int Partitions)>();
        foreach (var t in topics)
        {
            var parts = t.Split(':');
            if (parts[0].Length == 0 || parts.Length > 2 || (parts.Length == 2 && (!int.TryParse(parts[1], out var n) || n is < 1 or > 1000)))
            {
                await error.WriteLineAsync($"pluginhost kafka-mock: --topic {t}: expected NAME or NAME:PARTITIONS (1-1000)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            wanted.Add((parts[0], parts.Length == 2 ? int.Parse(parts[1]) : 4));
        }
        KafkaMockNative native;
        try
        {
            native = KafkaMockNative.Load(Path.Combine(Path.GetFullPath(pluginsDir), "Kafka"));
        }
        catch (InvalidOperationException e)
        {
            await error.WriteLineAsync($"pluginhost kafka-mock: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        using var cluster = native.Start(brokers);
        foreach (var (name, partitions) in wanted) cluster.CreateTopic(name, partitions, Math.Min(brokers, 3));
        await output.WriteLineAsync(cluster.BootstrapServers).ConfigureAwait(false);
        await output.FlushAsync().ConfigureAwait(false);
        await error.WriteLineAsync($"""
            kafka-mock: {brokers} broker(s) at {cluster.BootstrapServers} (librdkafka {native.Version} from {native.LoadedFrom}); nothing is kept; Ctrl+C stops
            kafka-mock: a pipeline's sink: {"{"} type: kafka, bootstrap_servers: "{cluster.BootstrapServers}" {"}"}   (docs/cli.md#a-local-kafka-kafka-mock)
            kafka-mock: other topics are made on first use with 4 partitions; a pipeline's warning that the cluster refuses to create topics is expected with the mock
            kafka-mock: read a topic: kcat -C -b {cluster.BootstrapServers} -t TOPIC -f '%k %s\n'
            """).ConfigureAwait(false);

        using var stop = new CancellationTokenSource();
        if (seconds > 0) stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
        await error.WriteLineAsync("kafka-mock: stopped").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
