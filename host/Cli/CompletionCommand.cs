using System.CommandLine;

namespace PluginHost.Cli;

/// <summary>
/// <c>completion bash</c>: prints a bash completion script. It asks the program itself what fits at the cursor
/// (System.CommandLine's <c>[suggest:POSITION]</c> directive, the protocol dotnet-suggest uses), so it never goes stale;
/// where nothing is suggested (a file argument or an option's value) bash completes file names.
/// </summary>
internal static class CompletionCommand
{
    /// <summary>The script; <c>source &lt;(pluginhost completion bash)</c> in ~/.bashrc enables it.</summary>
    public const string Bash = """
        # bash completion for pluginhost, from `pluginhost completion bash`; enable with: source <(pluginhost completion bash)
        _pluginhost_complete()
        {
            local program="${COMP_WORDS[0]}" line="${COMP_LINE:0:COMP_POINT}" word="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n' s
            line="${line#"$program"}"
            line="${line#"${line%%[![:space:]]*}"}"
            COMPREPLY=()
            for s in $("$program" "[suggest:${#line}]" "$line" 2>/dev/null); do
                case "$s" in
                    /*) ;;                                   # Windows spellings (/?, /h)
                    -*) [[ "$word" == -* ]] && COMPREPLY+=("$s") ;;
                    *) COMPREPLY+=("$s") ;;
                esac
            done
        }
        complete -o default -F _pluginhost_complete pluginhost
        """;

    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "The shell: bash (zsh: run 'autoload -U +X bashcompinit && bashcompinit' first)" };
        shell.AcceptOnlyFromAmong("bash");
        var command = new Command("completion", "Print the shell completion script: source <(pluginhost completion bash)") { shell };
        command.SetAction(result =>
        {
            result.InvocationConfiguration.Output.WriteLine(Bash);
            return ExitCodes.Ok;
        });
        return command;
    }
}
