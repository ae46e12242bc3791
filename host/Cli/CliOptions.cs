using System.CommandLine;
using System.Globalization;

namespace PluginHost.Cli;

/// <summary>Options several commands share, spelled the same everywhere.</summary>
internal static class CliOptions
{
    /// <summary><c>--config FILE</c> (also <c>-c</c>): any file path; the loader decides the format.</summary>
    public static Option<string> Config(string description) =>
        new("--config", "-c") { Description = description, HelpName = "FILE" };

    /// <summary>
    /// <c>-config FILE</c>, as pikachu spelled it: the same as <c>--config</c>, hidden from help (which would otherwise
    /// show it in place of <c>--config</c>). Read both with <see cref="GetConfig"/>.
    /// </summary>
    public static Option<string> PikachuConfig() => new("-config") { HelpName = "FILE", Hidden = true };

    /// <summary>The value of <c>--config</c> or of pikachu's <c>-config</c>.</summary>
    public static string? GetConfig(this ParseResult result, Option<string> config, Option<string> pikachu) =>
        result.GetValue(config) ?? result.GetValue(pikachu);

    /// <summary><c>--seconds N</c>: stop after N seconds (0: run until Ctrl+C or SIGTERM).</summary>
    public static Option<int> Seconds()
    {
        return new Option<int>("--seconds")
        {
            Description = "Stop after N seconds, as Ctrl+C would (0, the default: run until Ctrl+C or SIGTERM)",
            HelpName = "N",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return seconds;
                r.AddError($"--seconds {text}: not a whole number of seconds (0 or more)");
                return 0;
            },
        };
    }
}
