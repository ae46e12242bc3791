using System.Diagnostics;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.CommandLine;

/// <summary>
/// The real <c>pluginhost</c> process: <c>--version</c>, pikachu's <c>-config</c>, bad usage's exit code, the bash
/// completion script driving the program, and the progress line of decode and deadletter replay on a terminal (a pty
/// from util-linux's script).
/// </summary>
[Trait("Category", "Integration")]
public sealed class CommandLineProcessTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private static string HostDll => Path.Combine(AppContext.BaseDirectory, "pluginhost.dll");

    [Fact]
    public async Task Version_prints_the_version_and_help_names_the_binary()
    {
        var version = await HostCommand.RunAsync(HangGuard, "--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.StandardOutput);

        var help = await HostCommand.RunAsync(HangGuard, "run", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("pluginhost run [options]", help.StandardOutput);
        Assert.Contains("-c, --config <FILE>", help.StandardOutput);
        Assert.DoesNotMatch(@"(^|[\s,])-config\b", help.StandardOutput); // pikachu's spelling works but is not advertised
    }

    [Fact]
    public async Task Pikachus_single_dash_config_is_the_config_option_and_never_starts_the_demo()
    {
        var dir = TestTemp.CreateSubdirectory("cli-pikachu").FullName;
        var missing = Path.Combine(dir, "config.yaml");
        // Before the standard parser, `run -config FILE` ignored the unknown spelling and started the embedded demo.
        var result = await HostCommand.RunAsync(HangGuard, "run", "-config", missing);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{missing}: (file): not found", result.StandardError);
        Assert.DoesNotContain("demo", result.StandardError);

        var broken = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(broken, "pipelines: [ { name: a } ]\n");
        foreach (var spelling in new[] { "--config", "-c", "-config", "--config=" + broken, "-config=" + broken })
        {
            result = await HostCommand.RunAsync(HangGuard, spelling.Contains('=') ? ["run", spelling] : ["run", spelling, broken]);
            Assert.True(result.ExitCode == 2, $"{spelling}: exit {result.ExitCode}: {result.StandardError}");
            Assert.Contains($"pluginhost: {broken}: invalid configuration", result.StandardError);
        }
    }

    [Fact]
    public async Task An_unknown_option_exits_2_with_a_suggestion_on_stderr_and_nothing_on_stdout()
    {
        var result = await HostCommand.RunAsync(HangGuard, "deadletter", "replay", "x.jsonl", "--pipline", "p");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains("pluginhost deadletter replay: unknown option '--pipline'; did you mean '--pipeline'?", result.StandardError);
        Assert.Contains("usage: pluginhost deadletter replay FILE [options]", result.StandardError);
    }

    [Fact]
    public async Task The_bash_completion_script_completes_commands_subcommands_and_options()
    {
        var dir = TestTemp.CreateSubdirectory("cli-completion").FullName;
        var script = Path.Combine(dir, "complete.sh");
        var completion = (await HostCommand.RunAsync(HangGuard, "completion", "bash")).StandardOutput;
        // `pluginhost` as a shell function running the built dll, then bash's completion variables as a TAB would set them.
        await File.WriteAllTextAsync(script, $$"""
            pluginhost() { dotnet '{{HostDll}}' "$@"; }
            {{completion}}
            complete_line() {
                COMP_LINE="$1"; COMP_POINT=${#1}; read -ra COMP_WORDS <<< "$1"
                [[ "$1" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                _pluginhost_complete
                echo "$1 => ${COMPREPLY[*]}"
            }
            complete_line "pluginhost dea"
            complete_line "pluginhost deadletter "
            complete_line "pluginhost run --c"
            complete_line "pluginhost run "
            """);
        var psi = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(psi)!;
        var stdout = await bash.StandardOutput.ReadToEndAsync();
        var stderr = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.True(bash.ExitCode == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("pluginhost dea => deadletter", lines[0]);
        Assert.Equal("pluginhost deadletter  => replay show", lines[1]);
        Assert.Equal("pluginhost run --c => --config", lines[2]);
        Assert.Equal("pluginhost run  => ", lines[3]); // no option unless one is begun: bash then completes file names
    }

    [Fact]
    public async Task Decode_of_several_files_shows_progress_on_a_terminal_and_none_when_stderr_is_redirected()
    {
        var crc = RepoPaths.Fixture("mysql-bin.checksum-crc32");
        var none = RepoPaths.Fixture("mysql-bin.checksum-none");
        var redirected = await HostCommand.RunAsync(HangGuard, "decode", crc, none);
        Assert.Equal(0, redirected.ExitCode);
        Assert.Equal("", redirected.StandardError);

        // util-linux's script gives the command a pseudo-terminal for stdout and stderr alike.
        var psi = new ProcessStartInfo("script", ["-qec", $"dotnet '{HostDll}' decode '{crc}' '{none}' > /dev/null", "/dev/null"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var script = Process.Start(psi)!;
        var terminal = await script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync();
        Assert.Equal(0, script.ExitCode);
        Assert.Contains("\rdecode: file 1 of 2: " + crc, terminal);
        Assert.Contains("\rdecode: file 2 of 2: " + none, terminal);
        Assert.EndsWith("\r", terminal.TrimEnd('\n').Replace(" ", "")); // the line is cleared at the end
    }

    [Fact]
    public async Task Deadletter_replay_shows_progress_on_a_terminal_and_none_when_stderr_is_redirected()
    {
        // 2,500 dead letters of a file-sink pipeline (replay takes any sink): handed over in chunks of 1,000.
        var dir = TestTemp.CreateSubdirectory("pluginhost-replay-progress-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(config, """
            pipelines:
              - name: p
                source: { host: 127.0.0.1, port: 3306, user: u, password: "", server_id: 7 }
                sink: { type: file, path: out.jsonl, fsync: false }
            """);
        string Letters(string name)
        {
            var file = Path.Combine(dir, name);
            File.WriteAllLines(file, Enumerable.Range(1, 2500).Select(i =>
                $$"""{"event":{"op":"insert","database":"shop","table":"t","before":null,"after":{"id":{{i}}},"gtid":null,"file":"mysql-bin.000001","pos":4,"ts":"2026-12-06T10:24:40Z"},"task":"t","error":"refused"}"""));
            return file;
        }

        var redirected = await HostCommand.RunAsync(HangGuard, "deadletter", "replay", Letters("a.jsonl"), "--config", config, "--delete");
        Assert.True(redirected.ExitCode == 0, redirected.StandardError);
        Assert.Contains("replayed 2500 event(s)", redirected.StandardError);
        Assert.DoesNotContain("\r", redirected.StandardError);
        Assert.DoesNotContain("handed to the sink", redirected.StandardError);
        Assert.Equal(2500, File.ReadAllLines(Path.Combine(dir, "out.jsonl")).Length);

        // util-linux's script gives the command a pseudo-terminal for stdout and stderr alike.
        var psi = new ProcessStartInfo("script", ["-qec", $"dotnet '{HostDll}' deadletter replay '{Letters("b.jsonl")}' --config '{config}' --delete", "/dev/null"])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var script = Process.Start(psi)!;
        var terminal = await script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync();
        Assert.True(script.ExitCode == 0, terminal);
        Assert.Contains("\rdeadletter replay: 1000 of 2500 event(s) handed to the sink", terminal);
        Assert.Contains("\rdeadletter replay: waiting for the sink to deliver the last of 2500 event(s)", terminal);
        Assert.Contains("replayed 2500 event(s)", terminal);
        Assert.Equal(5000, File.ReadAllLines(Path.Combine(dir, "out.jsonl")).Length);
    }
}
