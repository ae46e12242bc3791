using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginHost.Config;

/// <summary>
/// Parses JSON from outside after one pass of the (non-recursive) reader that checks nesting against
/// <see cref="InputLimits.MaxDepth"/>, the number of values against <see cref="InputLimits.MaxNodes"/> and that no
/// object repeats a key; problems are <see cref="FormatException"/>s saying what and where, in plain words.
/// </summary>
internal static class BoundedJson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = InputLimits.MaxDepth, AllowDuplicateProperties = false };

    /// <summary>The JSON tree of <paramref name="text"/>; throws <see cref="FormatException"/> when it is invalid or out of bounds.</summary>
    public static JsonNode? Parse(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Check(bytes);
        return JsonNode.Parse(bytes, documentOptions: Options);
    }

    /// <summary>Reads <paramref name="utf8"/> once; throws <see cref="FormatException"/> at the first problem.</summary>
    public static void Check(ReadOnlySpan<byte> utf8)
    {
        // The reader's own depth limit is set past ours so that ours is the one reported.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = InputLimits.MaxDepth + 1 });
        var keys = new List<HashSet<string>?>();
        var path = new List<string>();
        var nodes = 0;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (keys.Count >= InputLimits.MaxDepth) throw Problem(InputLimits.TooDeep, utf8, reader.TokenStartIndex);
                        Count(ref nodes, utf8, reader.TokenStartIndex);
                        keys.Add(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                        path.Add("");
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        keys.RemoveAt(keys.Count - 1);
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        path[^1] = name;
                        if (!keys[^1]!.Add(name))
                            throw Problem($"duplicate key '{string.Join('.', path.Where(p => p.Length > 0))}'", utf8, reader.TokenStartIndex);
                        break;
                    default:
                        Count(ref nodes, utf8, reader.TokenStartIndex);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw Problem($"not valid JSON ({FirstSentence(e.Message)})", utf8, reader.BytesConsumed);
        }
    }

    private static void Count(ref int nodes, ReadOnlySpan<byte> utf8, long at)
    {
        if (++nodes > InputLimits.MaxNodes) throw Problem(InputLimits.TooMany, utf8, at);
    }

    private static FormatException Problem(string what, ReadOnlySpan<byte> utf8, long offset)
    {
        var before = utf8[..(int)Math.Min(offset, utf8.Length)];
        var line = before.Count((byte)'\n') + 1;
        var column = before.Length - (before.LastIndexOf((byte)'\n') + 1) + 1;
        return new FormatException($"{what} at line {line}, byte {column}");
    }

    /// <summary>The reader's message up to its own position note (" LineNumber: 0 | BytePositionInLine: 3.").</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
