using PluginHost.Cli;

namespace PluginHost;

/// <summary>The <c>pluginhost</c> command line: every command, its options and exit codes are in <see cref="PluginHostCommandLine"/>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => PluginHostCommandLine.InvokeAsync(args);
}
