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

    /// <summary>
    /// <c>--listen HOST:PORT</c>: where the REST API, health, metrics and dashboard listen, over the configuration's
    /// <c>server.listen</c> (as <c>PLUGINHOST__SERVER__LISTEN</c> would be); <c>off</c> runs without them.
    /// </summary>
    public static Option<string> Listen()
    {
        return new Option<string>("--listen")
        {
            Description = "Serve the REST API, health, metrics and dashboard on HOST:PORT (over server.listen; default 127.0.0.1:8080), or 'off' for none",
            HelpName = "HOST:PORT",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (text == "off" || System.Net.IPEndPoint.TryParse(text, out var e) && e.Port > 0 || text.StartsWith("localhost:", StringComparison.Ordinal) &&
                    int.TryParse(text["localhost:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
                    return text;
                r.AddError($"--listen {text}: not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:9090, [::1]:8080) or off");
                return null;
            },
        };
    }

    /// <summary>The configuration's environment overrides for <paramref name="listen"/> (<see cref="Listen"/>), over the process's environment; null when not given.</summary>
    public static IReadOnlyDictionary<string, string>? ListenEnvironment(string? listen)
    {
        if (listen is null) return null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";
        foreach (var key in env.Keys.Where(k => k.StartsWith(PluginHost.Config.ConfigLoader.EnvironmentPrefix + "SERVER__LISTEN", StringComparison.OrdinalIgnoreCase) ||
                                                 k.StartsWith(PluginHost.Config.ConfigLoader.EnvironmentPrefix + "SERVER__ENABLED", StringComparison.OrdinalIgnoreCase)).ToList())
            env.Remove(key);
        if (listen == "off") env[PluginHost.Config.ConfigLoader.EnvironmentPrefix + "SERVER__ENABLED"] = "false";
        else
        {
            env[PluginHost.Config.ConfigLoader.EnvironmentPrefix + "SERVER__ENABLED"] = "true";
            env[PluginHost.Config.ConfigLoader.EnvironmentPrefix + "SERVER__LISTEN"] = listen;
        }
        return env;
    }

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
