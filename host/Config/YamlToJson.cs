using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PluginHost.Config;

/// <summary>Reads YAML into a JSON tree (scalars stay strings; the binder converts them), rejecting duplicate keys.</summary>
internal static class YamlToJson
{
    public static JsonNode? Parse(string yaml, string file, List<ConfigError> errors)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(yaml)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            errors.Add(new ConfigError(file, null, $"line {e.Start.Line}, column {e.Start.Column}", $"YAML syntax error: {e.InnerException?.Message ?? e.Message}"));
            return null;
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails this way on some malformed input (e.g. an unclosed flow mapping): name where
            // parsing stopped, which is where the problem is.
            var at = parser.LastEnd;
            errors.Add(new ConfigError(file, null, $"line {at.Line}, column {at.Column}", $"YAML syntax error after this point ({e.Message})"));
            return null;
        }
        if (stream.Documents.Count == 0) return new JsonObject();
        return Convert(stream.Documents[0].RootNode, "", file, errors);
    }

    /// <summary>Remembers where the last parsed event ended, for errors the parser reports without a position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public Mark LastEnd { get; private set; } = new(0, 1, 1);
        public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (inner.Current is { } current) LastEnd = current.End;
            return inner.MoveNext();
        }
    }

    private static JsonNode? Convert(YamlNode node, string path, string file, List<ConfigError> errors)
    {
        switch (node)
        {
            case YamlMappingNode map:
            {
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = (k as YamlScalarNode)?.Value ?? k.ToString();
                    var childPath = path.Length == 0 ? key : $"{path}.{key}";
                    if (obj.ContainsKey(key))
                    {
                        errors.Add(new ConfigError(file, null, childPath, $"duplicate key (line {k.Start.Line})"));
                        continue;
                    }
                    obj[key] = Convert(v, childPath, file, errors);
                }
                return obj;
            }
            case YamlSequenceNode seq:
            {
                var arr = new JsonArray();
                var i = 0;
                foreach (var item in seq.Children) arr.Add(Convert(item, $"{path}[{i++}]", file, errors));
                return arr;
            }
            case YamlScalarNode scalar:
                if (scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL") return null;
                return JsonValue.Create(scalar.Value ?? "");
            default:
                return null;
        }
    }
}
