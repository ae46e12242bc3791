using PluginHost.Cli;

namespace PluginHost;

/// <summary>The <c>pluginhost</c> command line.</summary>
internal static class Program
{
    public static int Main(string[] args) =>
        // decode dispatched before anything else is touched: it is a short job, start-up is part of what users wait for.
        args is ["decode", .. var rest] ? DecodeCommand.Run(rest) : MainAsync(args).GetAwaiter().GetResult();

    private static async Task<int> MainAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Error.WriteLine("""
                usage: pluginhost <command> [options]
                  run --config FILE|DIR   run every pipeline of a configuration until stopped (DIR: go-mysql-kafka's *.toml)
                  run | demo [--seconds N] the embedded demo: throwaway MariaDB, sample schema, changes flowing to stdout
                  decode FILE...          print every changed row of binlog files as JSON lines
                  check SCRIPT.csx [--event SAMPLE.json]  compile a transform script and run it on a sample event
                  check --config FILE|DIR  read a configuration as run would and list every problem
                  deadletter replay FILE [--config FILE] [--pipeline NAME] | show FILE   re-send or summarise webhook dead letters
                """);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args.Skip(1).ToArray();
        return args[0] switch
        {
            "check" => await CheckCommand.RunAsync(rest),
            "deadletter" => await DeadLetterCommand.RunAsync(rest),
            "run" => await RunCommand.RunAsync(rest),
            "demo" => await DemoCommand.RunAsync(rest),
            _ => Unknown(args[0]),
        };
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"pluginhost: unknown command '{command}' (try --help)");
        return 2;
    }
}
