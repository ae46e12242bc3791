using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>Validates a pipeline's <c>transform:</c>: a <c>.csx</c>/<c>.js</c> file name, or a mapping with JavaScript <c>rules</c>.</summary>
internal static class TransformRules
{
    /// <summary>Most rules in one chain.</summary>
    public const int MaxRules = 256;

    /// <summary>Longest inline script (characters).</summary>
    public const int MaxInlineScript = 1 << 20;

    /// <summary>
    /// Reads <paramref name="value"/>: a file name (returned in <paramref name="path"/>) or a rule mapping (returned in
    /// <paramref name="rules"/>); problems go to <paramref name="error"/> (key, message).
    /// </summary>
    public static void Validate(JsonElement value, Action<string, string> error, out string? path, out IReadOnlyList<TransformRule>? rules)
    {
        path = null;
        rules = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return;
            case JsonValueKind.String:
                var text = value.GetString()!;
                if (text.Length == 0) return;
                if (!text.EndsWith(".csx", StringComparison.OrdinalIgnoreCase) && !text.EndsWith(".js", StringComparison.OrdinalIgnoreCase))
                    error("transform", "must be a .csx or .js file, or a mapping with rules");
                else path = text;
                return;
            case JsonValueKind.Object:
                break;
            default:
                error("transform", "must be a .csx or .js file, or a mapping with rules");
                return;
        }
        var bindErrors = new List<SinkConfigurationException>();
        var options = SettingsBinder.Bind<TransformOptions>(value, bindErrors, "transform");
        foreach (var e in bindErrors) error(e.Key, e.Message[(e.Key.Length + 2)..]); // and the rest is checked too
        if (!string.Equals(options.Language, "javascript", StringComparison.OrdinalIgnoreCase) && !string.Equals(options.Language, "js", StringComparison.OrdinalIgnoreCase))
            error("transform.language", $"'{options.Language}' is not supported: rules are javascript");
        if (options.Rules.Count == 0) error("transform.rules", "is required: a list of rules (name, match_schema, match_table, file or script)");
        if (options.Rules.Count > MaxRules) error("transform.rules", $"has {options.Rules.Count} rules: at most {MaxRules}");
        var list = new List<TransformRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var r = options.Rules[i];
            var key = $"transform.rules[{i}]";
            var ok = true;
            if (r.Name.Length == 0) { error(key + ".name", "is required"); ok = false; }
            else if (!names.Add(r.Name)) { error(key + ".name", $"'{r.Name}' is used by another rule"); ok = false; }
            var schema = Pattern(r.MatchSchema, key + ".match_schema", error);
            var table = Pattern(r.MatchTable, key + ".match_table", error);
            var hasFile = !string.IsNullOrEmpty(r.File);
            var hasScript = !string.IsNullOrWhiteSpace(r.Script);
            if (hasFile == hasScript) { error(key, "needs exactly one of file and script"); ok = false; }
            else if (hasFile && !r.File!.EndsWith(".js", StringComparison.OrdinalIgnoreCase)) { error(key + ".file", "must be a .js file"); ok = false; }
            else if (hasScript && r.Script!.Length > MaxInlineScript) { error(key + ".script", $"is longer than {MaxInlineScript} characters"); ok = false; }
            if (ok && schema != null && table != null) list.Add(new TransformRule(r.Name, schema, table, hasFile ? r.File : null, hasScript ? r.Script : null));
        }
        rules = list;
    }

    private static Regex? Pattern(string pattern, string key, Action<string, string> error)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException e)
        {
            error(key, $"not a valid regular expression: {e.Message}");
            return null;
        }
    }
}
