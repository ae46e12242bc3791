using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PluginHost.Config;

/// <summary>
/// Reads YAML into a JSON tree (scalars stay strings; the binder converts them) straight from the parser's event
/// stream, without recursion: nesting deeper than <see cref="InputLimits.MaxDepth"/> or more than
/// <see cref="InputLimits.MaxNodes"/> values (aliases expanded) stop the reading with an error, duplicate keys are
/// errors naming the key. Only the first document is read.
/// </summary>
internal static partial class YamlToJson
{
    public static JsonNode? Parse(string yaml, string file, List<ConfigError> errors)
    {
        var reader = new Reader(file, errors);
        var parser = new Parser(new StringReader(yaml));
        try
        {
            return reader.Read(parser);
        }
        catch (YamlException e)
        {
            errors.Add(At(file, e.Start, $"YAML syntax error: {Plain(e)}{reader.OpenFlow()}"));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some malformed input (an unclosed flow collection): say where
            // reading stopped and what was left open.
            errors.Add(At(file, reader.LastEnd, reader.OpenFlow() is { Length: > 0 } open
                ? $"YAML syntax error:{open[..^1].Replace(" (", " ")}"
                : "YAML syntax error: the text after this point is not valid YAML"));
            return null;
        }
    }

    private static ConfigError At(string file, Mark mark, string message) => new(file, null, $"line {mark.Line}, column {mark.Column}", message);

    /// <summary>YamlDotNet's message without its "(Line: 1, Col: 2, Idx: 1) - (…): " prefix (the key says where).</summary>
    private static string Plain(YamlException e)
    {
        var m = (e.InnerException as YamlException ?? e).Message;
        return Regex.Replace(PositionPrefix().Replace(m, ""), @"\s+", " ");
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();

    private sealed class Frame(JsonNode node, string path, string? anchor, Mark start, bool flow)
    {
        public JsonNode Node { get; } = node;
        public string Path { get; } = path;
        public string? Anchor { get; } = anchor;
        public Mark Start { get; } = start;
        public bool Flow { get; } = flow;
        public int Size { get; set; } = 1;
        public string? Key { get; set; }
        public Mark KeyMark { get; set; }
        public Dictionary<string, Mark>? Keys { get; set; }
    }

    private sealed class Reader(string file, List<ConfigError> errors)
    {
        private readonly List<Frame> _stack = [];
        private readonly Dictionary<string, (JsonNode? Node, int Size)> _anchors = new(StringComparer.Ordinal);
        private int _nodes;
        private JsonNode? _root;
        private bool _haveRoot;

        public Mark LastEnd { get; private set; } = new(0, 1, 1);

        /// <summary>" ('[' at line 1, column 4 is not closed)" when a flow collection is open, else "".</summary>
        public string OpenFlow()
        {
            var open = _stack.LastOrDefault(f => f.Flow);
            return open is null ? "" : $" ('{(open.Node is JsonObject ? '{' : '[')}' at line {open.Start.Line}, column {open.Start.Column} is not closed)";
        }

        public JsonNode? Read(IParser parser)
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                LastEnd = e.End;
                switch (e)
                {
                    case MappingStart m:
                        if (!Open(new JsonObject(), m.Anchor, m.Start, m.Style == MappingStyle.Flow)) return null;
                        break;
                    case SequenceStart s:
                        if (!Open(new JsonArray(), s.Anchor, s.Start, s.Style == SequenceStyle.Flow)) return null;
                        break;
                    case MappingEnd or SequenceEnd:
                    {
                        var done = _stack[^1];
                        _stack.RemoveAt(_stack.Count - 1);
                        if (done.Anchor != null) _anchors[done.Anchor] = (done.Node, done.Size);
                        Place(done.Node, done.Size, null, done.Start);
                        break;
                    }
                    case Scalar sc:
                    {
                        if (!Count(1, sc.Start)) return null;
                        JsonNode? value = sc.Style == ScalarStyle.Plain && sc.Value is "" or "~" or "null" or "Null" or "NULL" ? null : JsonValue.Create(sc.Value);
                        if (!sc.Anchor.IsEmpty) _anchors[sc.Anchor.Value] = (value, 1);
                        Place(value, 1, sc.Value, sc.Start);
                        break;
                    }
                    case AnchorAlias alias:
                    {
                        if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                        {
                            errors.Add(At(file, alias.Start, $"YAML syntax error: *{alias.Value.Value} names no anchor (&{alias.Value.Value}) before it"));
                            return null;
                        }
                        if (!Count(target.Size, alias.Start)) return null;
                        Place(target.Node?.DeepClone(), target.Size, target.Node is JsonValue v && v.TryGetValue<string>(out var k) ? k : null, alias.Start);
                        break;
                    }
                    case DocumentEnd:
                        return _haveRoot ? _root : new JsonObject();
                }
            }
            return _haveRoot ? _root : new JsonObject();
        }

        private bool Count(int size, Mark at)
        {
            _nodes += size;
            if (_nodes <= InputLimits.MaxNodes) return true;
            errors.Add(At(file, at, InputLimits.TooMany));
            return false;
        }

        private bool Open(JsonNode node, AnchorName anchor, Mark start, bool flow)
        {
            if (_stack.Count >= InputLimits.MaxDepth)
            {
                errors.Add(At(file, start, InputLimits.TooDeep));
                return false;
            }
            if (!Count(1, start)) return false;
            var path = "";
            if (_stack.Count > 0)
            {
                var parent = _stack[^1];
                if (parent.Node is JsonObject && parent.Key is null)
                {
                    errors.Add(At(file, start, "a key must be a plain value, not a mapping or a list"));
                    return false;
                }
                path = parent.Node is JsonArray a ? $"{parent.Path}[{a.Count}]" : Join(parent.Path, parent.Key!);
            }
            _stack.Add(new Frame(node, path, anchor.IsEmpty ? null : anchor.Value, start, flow));
            return true;
        }

        private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

        /// <summary>Puts a finished value where it belongs: the root, a list's next item, a mapping's key or its value.</summary>
        private void Place(JsonNode? node, int size, string? text, Mark at)
        {
            if (_stack.Count == 0)
            {
                _root = node;
                _haveRoot = true;
                return;
            }
            var parent = _stack[^1];
            parent.Size += size;
            if (parent.Node is JsonArray array)
            {
                array.Add(node);
                return;
            }
            var obj = (JsonObject)parent.Node;
            if (parent.Key is null)
            {
                parent.Key = text ?? "";
                parent.KeyMark = at;
                return;
            }
            var key = parent.Key;
            parent.Key = null;
            parent.Keys ??= new Dictionary<string, Mark>(StringComparer.Ordinal);
            if (parent.Keys.TryGetValue(key, out var first))
            {
                errors.Add(new ConfigError(file, null, Join(parent.Path, key),
                    $"duplicate key (line {first.Line}, column {first.Column} and line {parent.KeyMark.Line}, column {parent.KeyMark.Column})"));
                return;
            }
            parent.Keys[key] = parent.KeyMark;
            obj[key] = node;
        }
    }
}
