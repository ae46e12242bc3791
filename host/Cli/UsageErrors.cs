using System.CommandLine;
using System.CommandLine.Parsing;

namespace PluginHost.Cli;

/// <summary>
/// Bad usage in plain lines: each unknown option, command or argument named with the closest valid one, other parse
/// errors as System.CommandLine words them, then the command's usage line (or its help when a subcommand is missing).
/// An option-like word where a file is expected (<c>decode --fast x</c>) is an unknown option too, unless it follows <c>--</c>.
/// </summary>
internal static class UsageErrors
{
    /// <summary>The lines to print for <paramref name="result"/>'s usage problems; empty when it has none.</summary>
    public static IReadOnlyList<string> Describe(ParseResult result)
    {
        var commandResult = result.CommandResult;
        var command = commandResult.Command;
        var path = CommandPath(commandResult);
        var lines = new List<string>();
        var unmatched = result.UnmatchedTokens;
        foreach (var token in unmatched) lines.Add($"{path}: {Unknown(command, token)}");
        foreach (var token in StrayOptions(result)) lines.Add($"{path}: {Unknown(command, token)} (a file whose name starts with '-' goes after --)");
        var missingSubcommand = command.Subcommands.Count > 0 && command.Action is null;
        foreach (var error in result.Errors)
        {
            if (unmatched.Any(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal))) continue;
            if (missingSubcommand && error.SymbolResult is CommandResult { Command: var c } && c == command)
            {
                if (result.Tokens.Count > 0 && unmatched.Count == 0)
                    lines.Add($"{path}: which command? one of {string.Join(", ", command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name))}");
                continue;
            }
            lines.Add($"{path}: {error.Message}");
        }
        if (lines.Count == 0 && !(missingSubcommand && result.Errors.Count > 0)) return lines;
        if (missingSubcommand && result.Tokens.Count == 0)
        {
            // No command at all: the help of the level where one is missing, so the choices are visible.
            var help = new StringWriter();
            var words = PathNames(commandResult).Skip(1).Append("--help").ToArray();
            result.RootCommandResult.Command.Parse(words).Invoke(new InvocationConfiguration { Output = help, ProcessTerminationTimeout = null });
            lines.AddRange(help.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')));
        }
        else
        {
            lines.Add($"usage: {Usage(command, path)}");
            lines.Add($"('{path} --help' lists every option; exit code 2: nothing was done)");
        }
        return lines;
    }

    /// <summary>The usage line of <paramref name="command"/>: arguments by their help names, then <c>[options]</c>.</summary>
    public static string Usage(Command command, string path)
    {
        var parts = new List<string> { path };
        if (command.Subcommands.Count > 0) parts.Add("COMMAND");
        foreach (var a in command.Arguments.Where(a => !a.Hidden))
        {
            var name = a.HelpName ?? a.Name;
            var shown = a.Arity.MaximumNumberOfValues > 1 ? name + "..." : name;
            parts.Add(a.Arity.MinimumNumberOfValues == 0 ? $"[{shown}]" : shown);
        }
        parts.Add("[options]");
        return string.Join(' ', parts);
    }

    private static string Unknown(Command command, string token)
    {
        if (token.StartsWith('-'))
        {
            var names = command.Options.Concat(RecursiveOptions(command)).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));
            return $"unknown option '{token}'{Suggest(token.TrimStart('-'), names, n => n.TrimStart('-'))}";
        }
        if (command.Subcommands.Count > 0)
            return $"unknown command '{token}'{Suggest(token, command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name), n => n)}";
        return $"unexpected argument '{token}'";
    }

    private static IEnumerable<Option> RecursiveOptions(Command command) =>
        command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive).Concat(RecursiveOptions(p)));

    /// <summary>Words parsed as arguments that look like options and come before any <c>--</c> (and are not an option's value).</summary>
    private static IEnumerable<string> StrayOptions(ParseResult result)
    {
        var options = new Dictionary<string, Option>(StringComparer.Ordinal);
        for (SymbolResult? r = result.CommandResult; r is CommandResult c; r = r.Parent)
            foreach (var o in c.Command.Options)
                foreach (var name in o.Aliases.Prepend(o.Name)) options.TryAdd(name, o);
        Token? previous = null;
        foreach (var token in result.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) yield break;
            var isValue = previous is { Type: TokenType.Option } && options.TryGetValue(previous.Value, out var o) && o.Arity.MaximumNumberOfValues > 0;
            if (token.Type == TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-' && !isValue &&
                !result.UnmatchedTokens.Contains(token.Value))
                yield return token.Value;
            previous = token;
        }
    }

    private static string Suggest(string word, IEnumerable<string> candidates, Func<string, string> key)
    {
        var best = candidates.Distinct().Select(c => (Name: c, Distance: Distance(word, key(c)))).OrderBy(c => c.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, word.Length / 3) ? $"; did you mean '{best.Name}'?" : "";
    }

    /// <summary>Levenshtein distance (ordinal, case-insensitive).</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static string CommandPath(CommandResult result) => string.Join(' ', PathNames(result));

    /// <summary>The command names from the root (as <see cref="PluginHostCommandLine.Name"/>) to <paramref name="result"/>.</summary>
    private static List<string> PathNames(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = r.Parent)
            names.Insert(0, c.Parent is null ? PluginHostCommandLine.Name : c.Command.Name);
        return names;
    }
}
