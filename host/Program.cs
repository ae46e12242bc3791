using PluginHost.Cli;

namespace PluginHost;

/// <summary>The <c>pluginhost</c> command line.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Error.WriteLine("""
                usage: pluginhost <command> [options]
                  decode FILE...          print every changed row of binlog files as JSON lines
                """);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args.Skip(1).ToArray();
        return args[0] switch
        {
            "decode" => DecodeCommand.Run(rest, Console.Error),
            _ => Unknown(args[0]),
        };
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"pluginhost: unknown command '{command}' (try --help)");
        return 2;
    }
}
