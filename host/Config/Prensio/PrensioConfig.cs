using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PluginHost.Config.Prensio;

/// <summary>
/// Migration from go-mysql-kafka (vnvo/prensio): <c>--config FILE.toml</c> or <c>--config DIR</c> (every <c>*.toml</c>
/// below it, as <c>prensio run -c DIR</c> walks it) runs each file as one pipeline named by its <c>[mysql].name</c>
/// (<see cref="PrensioTranslator"/>). All files are read and every problem is reported at once, naming file, line and
/// prensio's key; <see cref="HostConfig.Warnings"/> lists what is ignored or treated differently.
/// </summary>
internal static partial class PrensioConfig
{
    /// <summary>The configuration name of a directory: its <c>*.toml</c> (relative paths resolve in the directory).</summary>
    public const string DirectoryPattern = "*.toml";

    /// <summary>True for a path this migration reads: a directory, a <c>.toml</c> file, or <c>DIR/*.toml</c>.</summary>
    public static bool Handles(string path) =>
        Directory.Exists(path) || path.EndsWith(".toml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads and validates prensio pipeline files like <see cref="ConfigLoader.Load"/> does a pluginhost.yaml.</summary>
    public static HostConfig Load(string path, IReadOnlyDictionary<string, string>? environment, ISet<string>? sinkTypes, bool secretsOptional)
    {
        var (configName, files) = Files(path);
        var errors = new List<ConfigError>();
        var warnings = new List<string>();
        var pipelines = new JsonArray();
        var sources = new Dictionary<string, (string File, TomlDocument Doc, List<int> Rules)>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (new FileInfo(file).Length > InputLimits.MaxFileBytes)
            {
                errors.Add(new ConfigError(file, null, "(file)", $"is larger than {InputLimits.MaxFileBytes >> 20} MiB; a configuration is a few KB"));
                continue;
            }
            var doc = TomlDocument.Parse(File.ReadAllText(file), file, errors);
            if (doc is null) continue;
            var rules = new List<int>();
            var pipeline = PrensioTranslator.Translate(doc, file, errors, warnings, rules);
            if (pipeline is null) continue;
            var name = pipeline["name"]!.GetValue<string>();
            if (sources.TryGetValue(name, out var other))
            {
                errors.Add(new ConfigError($"{file}:{doc.LineOf("mysql.name")}", null, "mysql.name", $"'{name}' is also the name of {other.File}; each pipeline needs its own"));
                continue;
            }
            if (pipeline["transform"] is not null && !JavaScriptRulesSupported)
            {
                foreach (var i in rules)
                    errors.Add(new ConfigError($"{file}:{doc.LineOf($"transform_rule[{i}]")}", null, $"transform_rule[{i}]",
                        "JavaScript rules need the JavaScript transform engine, which this build does not have"));
                continue;
            }
            sources[name] = (file, doc, rules);
            pipelines.Add(pipeline);
        }
        if (files.Count == 0) errors.Add(new ConfigError(path, null, "(directory)", "has no *.toml file"));
        if (errors.Count > 0) throw new ConfigException(errors);

        var json = new JsonObject
        {
            ["state_dir"] = "state",
            ["plugins_dir"] = PluginDirectories.BuiltPlugins,
            ["pipelines"] = pipelines,
        }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        ConfigError Rename(ConfigError e) => ToPrensioKeys(e, sources);
        HostConfig config;
        try
        {
            config = ConfigLoader.Parse(json, configName, environment, sinkTypes, secretsOptional);
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Errors.Select(Rename).ToList()) { Partial = e.Partial, NameKeys = Rename };
        }
        config.Warnings = [.. warnings.Select(w => "warning: " + w), .. Notes(sources.Keys)];
        return config;
    }

    /// <summary>
    /// True when pipelines accept a chain of JavaScript rules (<c>transform: { rules: […] }</c>): the transform setting
    /// is more than a script path.
    /// </summary>
    private static bool JavaScriptRulesSupported => typeof(PipelineOptions).GetProperty(nameof(PipelineOptions.Transform))?.PropertyType != typeof(string);

    private static (string ConfigName, List<string> Files) Files(string path)
    {
        var dir = Path.GetFileName(path) == DirectoryPattern ? Path.GetDirectoryName(path) ?? "." : path;
        if (Directory.Exists(dir))
        {
            var files = Directory.EnumerateFiles(dir, "*.toml", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".toml", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).ToList();
            return (Path.Combine(dir, DirectoryPattern), files);
        }
        if (!File.Exists(path)) throw new ConfigException([new ConfigError(path, null, "(file)", "not found")]);
        return (path, [path]);
    }

    private static readonly (string Ours, string Theirs)[] KeyMap =
    [
        ("name", "mysql.name"), ("source.host", "mysql.addr"), ("source.port", "mysql.addr"), ("source.user", "mysql.user"),
        ("source.password", "mysql.pass"), ("source.server_id", "mysql.server_id"), ("source", "mysql"),
        ("filter.regex", "source_rules"), ("sink.bootstrap_servers", "kafka_sink.addr"), ("sink", "kafka_sink"),
        ("checkpoint.settings.bootstrap_servers", "state_tracking.kafka_addr"), ("checkpoint.settings.prensio_topic", "state_tracking.state_topic"),
        ("checkpoint", "state_tracking"),
    ];

    /// <summary>Renames an error of the translated configuration to the prensio file, line and key it came from.</summary>
    private static ConfigError ToPrensioKeys(ConfigError e, Dictionary<string, (string File, TomlDocument Doc, List<int> Rules)> sources)
    {
        if (e.Pipeline is null || !sources.TryGetValue(e.Pipeline, out var source)) return e;
        var key = e.Key;
        var rule = RuleKey().Match(key);
        if (rule.Success)
        {
            var index = int.Parse(rule.Groups[1].Value);
            var original = index < source.Rules.Count ? source.Rules[index] : index;
            var rest = key[rule.Length..].Replace(".script", ".transform_func");
            key = $"transform_rule[{original}]{rest}";
        }
        else if (key.StartsWith("transform", StringComparison.Ordinal)) key = "transform_rule" + key["transform".Length..];
        else
        {
            foreach (var (ours, theirs) in KeyMap)
                if (key == ours || key.StartsWith(ours + ".", StringComparison.Ordinal) || key.StartsWith(ours + "[", StringComparison.Ordinal))
                {
                    key = theirs + key[ours.Length..];
                    break;
                }
        }
        var line = source.Doc.LineOf(key);
        return e with { File = line > 0 ? $"{source.File}:{line}" : source.File, Pipeline = null, Key = key };
    }

    [GeneratedRegex(@"^transform\.rules\[(\d+)\]")]
    private static partial Regex RuleKey();

    /// <summary>Notes printed at start about how the run differs from prensio (not problems).</summary>
    private static IEnumerable<string> Notes(IEnumerable<string> names)
    {
        foreach (var name in names)
            yield return $"note: running prensio pipeline '{name}': Kafka sink with format: prensio (one row per message, partitioned by its key); " +
                         $"its checkpoint is kept in Kafka topic pluginhost.state; at the first start it continues after the GTID of prensio's last state record " +
                         "(stop prensio first), or from the oldest binlog file when there is none, as prensio did";
    }
}
