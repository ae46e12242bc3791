using System.CommandLine;
using System.Globalization;

namespace PluginHost.Cli;

/// <summary>
/// The argument parsing of <c>decode FILE...</c> (the decoding itself is <see cref="DecodeCommand"/>): with several
/// files and a terminal on stderr, one progress line (file i of n, its size) while they are decoded.
/// </summary>
internal static class DecodeCommandLine
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Arity = ArgumentArity.OneOrMore,
            Description = "Binlog files (plain, or gzip when the name ends in .gz); a file whose name starts with '-' goes after --",
        };
        var stats = new Option<bool>("--stats") { Description = "Print rows, time, CPU, JIT and GC figures on standard error at the end" };
        var command = new Command("decode", "Print every changed row of binlog files as one JSON object per line (stdout)") { files, stats };
        command.SetAction(result => Run([.. result.GetValue(files)!, .. result.GetValue(stats) ? new[] { StatsOption } : []], result.InvocationConfiguration.Error));
        return command;
    }

    private const string StatsOption = "--stats";

    /// <summary>True for <c>decode FILE... [--stats]</c> where no other word looks like an option: what the parser would
    /// accept as is.</summary>
    public static bool IsPlain(string[] args) =>
        args is ["decode", _, ..] && args.Skip(1).Any(a => a != StatsOption)
        && args.Skip(1).All(a => a == StatsOption || (a.Length > 0 && a[0] != '-' && a[0] != '['));

    /// <summary>Decodes <paramref name="words"/> (files, and <c>--stats</c>), with one progress line on a terminal when
    /// there are several files.</summary>
    public static int Run(string[] words, TextWriter error)
    {
        using var progress = TerminalProgress.ForStandardError(error);
        var files = words.Where(w => w != StatsOption).ToArray();
        if (!progress.Enabled || files.Length < 2 || files.Length != words.Length) return DecodeCommand.Run(words, error);
        var exit = ExitCodes.Ok;
        for (var i = 0; i < files.Length; i++)
        {
            progress.Report($"decode: file {i + 1} of {files.Length}: {files[i]}{Size(files[i])}", now: true);
            exit = Math.Max(exit, DecodeCommand.Run([files[i]], progress.Errors));
        }
        return exit;
    }

    private static string Size(string path)
    {
        try
        {
            return string.Create(CultureInfo.InvariantCulture, $" ({new FileInfo(path).Length / 1048576.0:0.0} MB)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return "";
        }
    }
}
