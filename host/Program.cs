using PluginHost.Cli;

namespace PluginHost;

/// <summary>The <c>pluginhost</c> command line: every command, its options and exit codes are in <see cref="PluginHostCommandLine"/>.</summary>
internal static class Program
{
    public static int Main(string[] args) =>
        // decode of plain file names starts straight away, before any async machinery: its start-up is part of what its
        // users wait for, and loading System.CommandLine costs about 0.1 s. Anything else about decode (help, an unknown
        // option, no file) goes through the parser.
        DecodeCommandLine.IsPlain(args)
            ? DecodeCommandLine.Run(args[1..], Console.Error)
            : PluginHostCommandLine.InvokeAsync(args).GetAwaiter().GetResult();
}
