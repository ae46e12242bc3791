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
        var command = new Command("decode", "Print every changed row of binlog files as one JSON object per line (stdout)") { files };
        command.SetAction(result => Run(result.GetValue(files)!, result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>True for <c>decode FILE...</c> where no word looks like an option: what the parser would accept as is.</summary>
    public static bool IsPlain(string[] args) => args is ["decode", _, ..] && args.Skip(1).All(a => a.Length > 0 && a[0] != '-' && a[0] != '[');

    /// <summary>Decodes <paramref name="files"/>, with one progress line on a terminal when there are several.</summary>
    public static int Run(string[] files, TextWriter error)
    {
        using var progress = TerminalProgress.ForStandardError(error);
        if (!progress.Enabled || files.Length < 2) return DecodeCommand.Run(files, error);
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
