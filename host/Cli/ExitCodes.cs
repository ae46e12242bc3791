namespace PluginHost.Cli;

/// <summary>The exit codes of every <c>pluginhost</c> command (docs/cli.md#exit-codes).</summary>
internal static class ExitCodes
{
    /// <summary>Done: everything worked (or <c>run</c> was stopped by Ctrl+C / SIGTERM and drained).</summary>
    public const int Ok = 0;

    /// <summary>The command ran but some of its work failed: a file that did not decode, a script that does not compile, events dead-lettered again.</summary>
    public const int Failed = 1;

    /// <summary>Nothing was done: bad usage (unknown command, option or argument) or bad input (missing file, invalid configuration, port taken).</summary>
    public const int Usage = 2;
}
