using System.Globalization;
using System.Text.Json.Nodes;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace PluginHost.Config.Prensio;

/// <summary>
/// A TOML file read with Tomlyn into a JSON tree (tables → objects, arrays of tables → arrays of objects), with the
/// 1-based line of every key (<c>mysql.addr</c>, <c>transform_rule[1].name</c>) for messages. Syntax errors (and
/// duplicate keys) are all reported with their line.
/// </summary>
internal sealed class TomlDocument
{
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    private TomlDocument(JsonObject root) => Root = root;

    public JsonObject Root { get; }

    /// <summary>The line of a key path (or of the closest enclosing table), 0 when unknown.</summary>
    public int LineOf(string path)
    {
        for (var p = path; p.Length > 0;)
        {
            if (_lines.TryGetValue(p, out var line)) return line;
            var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
            if (cut <= 0) break;
            p = p[..cut];
        }
        return 0;
    }

    /// <summary>Parses <paramref name="text"/>; null (with errors added) when it is not valid TOML.</summary>
    public static TomlDocument? Parse(string text, string file, List<ConfigError> errors)
    {
        DocumentSyntax syntax;
        try
        {
            syntax = SyntaxParser.Parse(text, file, true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(new ConfigError(file, null, "(file)", $"not valid TOML: {e.Message}"));
            return null;
        }
        if (syntax.HasErrors)
        {
            foreach (var d in syntax.Diagnostics.Where(d => d.Kind == DiagnosticMessageKind.Error))
                errors.Add(new ConfigError($"{file}:{d.Span.Start.Line + 1}", null, "(toml)", d.Message));
            return null;
        }
        var doc = new TomlDocument(new JsonObject());
        foreach (var kv in syntax.KeyValues) doc.Add(doc.Root, "", kv, file, errors);
        foreach (var table in syntax.Tables)
        {
            var parts = table.Name is { } name ? KeyParts(name) : [""];
            var line = table.Span.Start.Line + 1;
            var target = doc.Root;
            var path = "";
            for (var i = 0; i < parts.Count; i++)
            {
                var last = i == parts.Count - 1;
                path = path.Length == 0 ? parts[i] : path + "." + parts[i];
                if (last && table is TableArraySyntax)
                {
                    if (target[parts[i]] is not JsonArray array) target[parts[i]] = array = new JsonArray();
                    var element = new JsonObject();
                    array.Add(element);
                    path = $"{path}[{array.Count - 1}]";
                    target = element;
                }
                else
                {
                    var next = target[parts[i]] switch
                    {
                        JsonObject o => o,
                        JsonArray { Count: > 0 } a when a[^1] is JsonObject o => o, // [a.b] under [[a]]: the last element
                        _ => null,
                    };
                    if (next is null)
                    {
                        next = new JsonObject();
                        target[parts[i]] = next;
                    }
                    if (target[parts[i]] is JsonArray arr) path = $"{path}[{arr.Count - 1}]";
                    target = next;
                }
                doc._lines.TryAdd(path, line);
            }
            foreach (var kv in table.Items) doc.Add(target, path, kv, file, errors);
        }
        return doc;
    }

    private void Add(JsonObject target, string prefix, KeyValueSyntax kv, string file, List<ConfigError> errors)
    {
        var parts = KeyParts(kv.Key!);
        var line = kv.Span.Start.Line + 1;
        var path = prefix;
        for (var i = 0; i < parts.Count - 1; i++)
        {
            path = path.Length == 0 ? parts[i] : path + "." + parts[i];
            if (target[parts[i]] is not JsonObject o) target[parts[i]] = o = new JsonObject();
            _lines.TryAdd(path, line);
            target = o;
        }
        path = path.Length == 0 ? parts[^1] : path + "." + parts[^1];
        _lines[path] = line;
        target[parts[^1]] = Value(kv.Value, path, file, errors);
    }

    private JsonNode? Value(ValueSyntax? value, string path, string file, List<ConfigError> errors)
    {
        switch (value)
        {
            case StringValueSyntax s: return JsonValue.Create(s.Value);
            case IntegerValueSyntax n: return JsonValue.Create(n.Value);
            case FloatValueSyntax f: return JsonValue.Create(f.Value);
            case BooleanValueSyntax b: return JsonValue.Create(b.Value);
            case DateTimeValueSyntax d: return JsonValue.Create(d.Token?.Text ?? d.Value.ToString());
            case ArraySyntax a:
            {
                var array = new JsonArray();
                var i = 0;
                foreach (var item in a.Items) array.Add(Value(item.Value, $"{path}[{i++}]", file, errors));
                return array;
            }
            case InlineTableSyntax t:
            {
                var o = new JsonObject();
                foreach (var item in t.Items)
                    if (item.KeyValue is { } kv) Add(o, path, kv, file, errors);
                return o;
            }
            default:
                errors.Add(new ConfigError($"{file}:{LineOf(path)}", null, path, "has a value that cannot be read"));
                return null;
        }
    }

    private static List<string> KeyParts(KeySyntax key)
    {
        var parts = new List<string> { Name(key.Key) };
        foreach (var dot in key.DotKeys) parts.Add(Name(dot.Key));
        return parts;
    }

    private static string Name(BareKeyOrStringValueSyntax? key) => key switch
    {
        BareKeySyntax b => b.Key?.Text ?? "",
        StringValueSyntax s => s.Value ?? "",
        _ => Convert.ToString(key, CultureInfo.InvariantCulture) ?? "",
    };
}
