using System.CommandLine;
using PluginHost.Cli;

namespace PluginHost.Tests.CommandLine;

/// <summary>The command tree in process: every command's help, and bad usage rejected with a suggestion and exit code 2.</summary>
public sealed class CommandLineTests
{
    private static async Task<(int Exit, string Out, string Err)> InvokeAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await PluginHostCommandLine.InvokeAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Every command and subcommand, as the words that name it (the root is the empty list).</summary>
    private static IEnumerable<string[]> CommandPaths(Command command, string[] path)
    {
        yield return path;
        foreach (var sub in command.Subcommands)
            foreach (var p in CommandPaths(sub, [.. path, sub.Name]))
                yield return p;
    }

    [Fact]
    public async Task Every_command_has_help_that_lists_its_options_and_exits_0()
    {
        var paths = CommandPaths(PluginHostCommandLine.Create(), []).ToList();
        Assert.Contains(paths, p => p.SequenceEqual(["deadletter", "replay"]));
        foreach (var path in paths)
        {
            var command = path.Aggregate((Command)PluginHostCommandLine.Create(), (c, name) => c.Subcommands.Single(s => s.Name == name));
            var (exit, stdout, stderr) = await InvokeAsync([.. path, "--help"]);
            var shown = string.Join(' ', path);
            Assert.True(exit == 0, $"'{shown} --help' exited {exit}: {stderr}");
            Assert.Contains("Usage:", stdout);
            Assert.False(string.IsNullOrWhiteSpace(command.Description), $"'{shown}' has no description");
            Assert.Contains(command.Description!, stdout);
            foreach (var option in command.Options.Where(o => !o.Hidden)) Assert.Contains(option.Name, stdout);
            foreach (var sub in command.Subcommands) Assert.Contains(sub.Name, stdout);
        }
    }

    [Theory]
    [InlineData(new[] { "run", "--confg", "x.yaml" }, "pluginhost run: unknown option '--confg'; did you mean '--config'?")]
    [InlineData(new[] { "demo", "-seconds", "3" }, "pluginhost demo: unknown option '-seconds'; did you mean '--seconds'?")]
    [InlineData(new[] { "rn" }, "pluginhost: unknown command 'rn'; did you mean 'run'?")]
    [InlineData(new[] { "deadletter", "rplay", "f.jsonl" }, "pluginhost deadletter: unknown command 'rplay'; did you mean 'replay'?")]
    [InlineData(new[] { "run", "config.yaml" }, "pluginhost run: unexpected argument 'config.yaml'")]
    [InlineData(new[] { "decode", "--fast", "mysql-bin.000001" }, "pluginhost decode: unknown option '--fast' (a file whose name starts with '-' goes after --)")]
    [InlineData(new[] { "check", "t.csx", "--evnt", "e.json" }, "pluginhost check: unknown option '--evnt'; did you mean '--event'?")]
    [InlineData(new[] { "demo", "--seconds", "soon" }, "pluginhost demo: --seconds soon: not a whole number of seconds (0 or more)")]
    [InlineData(new[] { "run", "--config", "p.toml", "--listen", "8080" }, "pluginhost run: --listen 8080: not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:9090, [::1]:8080) or off")]
    [InlineData(new[] { "deadletter", "replay" }, "pluginhost deadletter replay: Required argument missing for command: 'replay'.")]
    [InlineData(new[] { "check" }, "pluginhost check: SCRIPT is missing")]
    [InlineData(new[] { "completion", "fish" }, "pluginhost completion: Argument 'fish' not recognized.")]
    public async Task Bad_usage_names_the_word_suggests_the_closest_and_exits_2_without_doing_anything(string[] args, string message)
    {
        var (exit, stdout, stderr) = await InvokeAsync(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
        Assert.Contains("exit code 2: nothing was done", stderr);
    }

    [Fact]
    public async Task A_suggestion_is_made_only_when_a_name_is_close()
    {
        var (exit, _, stderr) = await InvokeAsync("run", "--xyz");
        Assert.Equal(2, exit);
        Assert.Contains("pluginhost run: unknown option '--xyz'\n", stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task No_command_prints_the_commands_on_stderr_and_exits_2_and_a_missing_subcommand_lists_the_choices()
    {
        var (exit, stdout, stderr) = await InvokeAsync();
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        foreach (var name in new[] { "run", "demo", "check", "decode", "deadletter", "completion" }) Assert.Contains(name, stderr);

        (exit, _, stderr) = await InvokeAsync("deadletter");
        Assert.Equal(2, exit);
        Assert.Contains("pluginhost deadletter: which command? one of replay, show", stderr);
        Assert.Contains("usage: pluginhost deadletter COMMAND [options]", stderr);
    }

    [Fact]
    public async Task A_file_named_like_an_option_is_taken_after_a_double_dash()
    {
        var dir = TestTemp.CreateSubdirectory("cli-dash").FullName;
        var (exit, _, stderr) = await InvokeAsync("deadletter", "show", "--", Path.Combine(dir, "--odd.jsonl"));
        Assert.Equal(2, exit); // parsed: the file is looked for, and is not there
        Assert.Contains("--odd.jsonl: not found", stderr);
        Assert.DoesNotContain("unknown option", stderr);
    }

    [Fact]
    public async Task Option_values_that_start_with_a_dash_are_values_not_unknown_options()
    {
        var dir = TestTemp.CreateSubdirectory("cli-value").FullName;
        var script = Path.Combine(dir, "t.csx");
        await File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e) => e;");
        var (exit, _, stderr) = await InvokeAsync("check", script, "--timeout", "-1s", "--plugins", Path.Combine(dir, "none"));
        Assert.Equal(2, exit);
        Assert.Contains("pluginhost check: --timeout -1s: not a duration", stderr);
    }

    [Fact]
    public async Task The_completion_script_asks_the_program_for_suggestions()
    {
        var (exit, stdout, _) = await InvokeAsync("completion", "bash");
        Assert.Equal(0, exit);
        Assert.Contains("complete -o default -F _pluginhost_complete pluginhost", stdout);
        Assert.Contains("[suggest:${#line}]", stdout);
    }

    [Fact]
    public void Progress_is_drawn_only_on_a_terminal_and_a_message_clears_it_first()
    {
        var plain = new StringWriter();
        using (var none = TerminalProgress.ForStandardError(plain))
        {
            Assert.False(none.Enabled);
            none.Report("x", now: true);
        }
        Assert.Equal("", plain.ToString());

        var terminal = new StringWriter();
        using (var progress = new TerminalProgress(terminal))
        {
            progress.Report("decode: file 1 of 2", now: true);
            progress.Errors.WriteLine("mysql-bin.000001: damaged");
            progress.Report("decode: file 2 of 2", now: true);
        }
        Assert.Equal("\rdecode: file 1 of 2\r                   \rmysql-bin.000001: damaged" + Environment.NewLine +
                     "\rdecode: file 2 of 2\r                   \r", terminal.ToString());
    }
}
