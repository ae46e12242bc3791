using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace PluginHost.Cli;

/// <summary>
/// The <c>pluginhost</c> command line on System.CommandLine: the command tree, and one entry that parses, rejects bad
/// usage with exit code 2 (<see cref="UsageErrors"/>) and runs the chosen command. Building the tree is cheap (no DI,
/// no ASP.NET): <c>decode</c> starts as fast as before.
/// </summary>
internal static class PluginHostCommandLine
{
    /// <summary>The name the help, usage lines and completion script use (the published binary's name).</summary>
    public const string Name = "pluginhost";

    /// <summary>All commands; each one's action returns an <see cref="ExitCodes"/> value.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("PluginHost: change data capture from MySQL/MariaDB binlogs through C# transforms to sink plugins. " +
                                   "scripts/run.sh without arguments runs 'demo'. Exit codes: 0 done, 1 some work failed, 2 bad usage or input. Reference: docs/cli.md.")
        {
            RunCommand.Create(),
            DemoCommand.Create(),
            CheckCommand.Create(),
            DecodeCommandLine.Create(),
            DeadLetterCommand.Create(),
            KafkaMockCommand.Create(),
            CompletionCommand.Create(),
        };
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; bad usage prints what is wrong and a hint, and returns 2.</summary>
    /// <param name="output">Standard output (help, results); the console when null.</param>
    /// <param name="error">Standard error (diagnostics); the console when null.</param>
    public static async Task<int> InvokeAsync(IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default)
    {
        var result = Create().Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
            // run and demo stop on Ctrl+C / SIGTERM through the generic host (draining pipelines); a crash is a bug and
            // keeps the runtime's own exit code and stack trace instead of looking like "some work failed".
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        // Help and the completion directive ([suggest:N], used by the completion script) answer whatever else is typed.
        var answersAnyway = result.Action is HelpAction || result.Tokens.Any(t => t.Type == TokenType.Directive);
        if (!answersAnyway && UsageErrors.Describe(result) is { Count: > 0 } problems)
        {
            foreach (var line in problems) await configuration.Error.WriteLineAsync(line).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        return await result.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }
}
