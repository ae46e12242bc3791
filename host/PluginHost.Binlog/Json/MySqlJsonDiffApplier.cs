using System.Text;
using System.Text.Json;

namespace PluginHost.Binlog.Json;

/// <summary>
/// Applies the diffs of a MySQL partial JSON update to the column's before value, as the server's
/// <c>apply_json_diffs</c> (sql/json_diff.cc) does: REPLACE needs the path to exist; INSERT needs its parent to exist
/// and, in an object, the member not to (in an array it inserts at the index, appending past the end); REMOVE needs the
/// path to exist; the root cannot be a diff's target. A diff the server would reject fails here too, never guessed.
/// </summary>
/// <remarks>
/// Works on the compact text <see cref="MySqlJsonBinary"/> prints, keeping every scalar's text as printed, so that the
/// result reads exactly like the full value decoded from binary: members of a new key go where MySQL's binary format
/// stores them (keys ordered by length, then bytes).
/// </remarks>
public static class MySqlJsonDiffApplier
{
    /// <summary>Applies <paramref name="diffs"/> in order to <paramref name="beforeJson"/>.</summary>
    /// <param name="beforeJson">The before value as compact JSON text (<see cref="MySqlJsonBinary.ToJson"/>).</param>
    /// <param name="diffs">The diffs of the column (<see cref="MySqlJsonDiff.Decode"/>).</param>
    /// <returns>The after value as compact JSON text in UTF-8.</returns>
    /// <exception cref="BinlogFormatException">A path is malformed or a diff does not apply to the value.</exception>
    public static byte[] Apply(string beforeJson, IReadOnlyList<MySqlJsonDiff> diffs)
    {
        ArgumentNullException.ThrowIfNull(beforeJson);
        ArgumentNullException.ThrowIfNull(diffs);
        var root = Node.Parse(Encoding.UTF8.GetBytes(beforeJson));
        foreach (var diff in diffs) ApplyOne(root, diff);
        var sb = new StringBuilder(beforeJson.Length + 16);
        root.Write(sb);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static void ApplyOne(Node root, MySqlJsonDiff diff)
    {
        var legs = MySqlJsonPath.Parse(diff.Path);
        if (legs.Count == 0) throw Rejected(diff, "the root cannot be the target of a diff");
        var parent = root;
        for (var i = 0; i < legs.Count - 1; i++)
            parent = Child(parent, legs[i]) ?? throw Rejected(diff, $"{Prefix(legs, i + 1)} does not exist");
        var last = legs[^1];
        var value = diff.Value is { } text ? Node.Parse(Encoding.UTF8.GetBytes(text)) : null;
        switch (diff.Operation)
        {
            case MySqlJsonDiffOperation.Replace:
            {
                if (!Replace(parent, last, value!)) throw Rejected(diff, "the path does not exist");
                break;
            }
            case MySqlJsonDiffOperation.Insert:
                if (parent.Members is { } members && last.IsMember)
                {
                    if (members.Exists(m => m.Name == last.Member)) throw Rejected(diff, "the member exists already");
                    InsertMember(members, last.Member!, value!);
                }
                else if (parent.Elements is { } elements && !last.IsMember)
                {
                    var p = last.Position(elements.Count);
                    elements.Insert((int)Math.Clamp(p, 0, elements.Count), value!);
                }
                else throw Rejected(diff, "its parent is not an object or array of the path's kind");
                break;
            case MySqlJsonDiffOperation.Remove:
                if (parent.Members is { } ms && last.IsMember)
                {
                    if (ms.RemoveAll(m => m.Name == last.Member) == 0) throw Rejected(diff, "the member does not exist");
                }
                else if (parent.Elements is { } es && !last.IsMember)
                {
                    var p = last.Position(es.Count);
                    if (p < 0 || p >= es.Count) throw Rejected(diff, "the array cell does not exist");
                    es.RemoveAt((int)p);
                }
                else throw Rejected(diff, "the path does not exist");
                break;
            default:
                throw Rejected(diff, $"unknown operation {(int)diff.Operation}");
        }
    }

    private static Node? Child(Node node, MySqlJsonPathLeg leg)
    {
        if (leg.IsMember) return node.Members?.Find(m => m.Name == leg.Member).Value;
        if (node.Elements is not { } elements) return null;
        var p = leg.Position(elements.Count);
        return p >= 0 && p < elements.Count ? elements[(int)p] : null;
    }

    private static bool Replace(Node parent, MySqlJsonPathLeg leg, Node value)
    {
        if (leg.IsMember && parent.Members is { } members)
        {
            var i = members.FindIndex(m => m.Name == leg.Member);
            if (i < 0) return false;
            members[i] = members[i] with { Value = value };
            return true;
        }
        if (!leg.IsMember && parent.Elements is { } elements)
        {
            var p = leg.Position(elements.Count);
            if (p < 0 || p >= elements.Count) return false;
            elements[(int)p] = value;
            return true;
        }
        return false;
    }

    /// <summary>Inserts where MySQL's binary JSON keeps the key: ordered by UTF-8 length, then bytes.</summary>
    private static void InsertMember(List<Member> members, string name, Node value)
    {
        var key = Encoding.UTF8.GetBytes(name);
        var at = members.FindIndex(m => CompareKeys(Encoding.UTF8.GetBytes(m.Name), key) > 0);
        var member = new Member(name, Quote(name), value);
        if (at < 0) members.Add(member);
        else members.Insert(at, member);
    }

    /// <summary>A key quoted as <see cref="MySqlJsonBinary"/> prints strings: <c>\" \\ \b \f \n \r \t</c>, other controls
    /// as lowercase <c>\u00xx</c>, nothing else escaped.</summary>
    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': sb.Append("\\u00").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static int CompareKeys(byte[] a, byte[] b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.AsSpan().SequenceCompareTo(b);

    private static string Prefix(List<MySqlJsonPathLeg> legs, int count) => "$" + string.Concat(legs.Take(count));

    private static BinlogFormatException Rejected(MySqlJsonDiff diff, string why) =>
        new($"partial JSON update {diff.Operation.ToString().ToUpperInvariant()} {diff.Path} does not apply to the before value: {why}");

    private readonly record struct Member(string Name, string RawName, Node Value);

    /// <summary>A JSON value: an object, an array, or a scalar kept as its text.</summary>
    private sealed class Node
    {
        public List<Member>? Members { get; private init; }
        public List<Node>? Elements { get; private init; }
        public string? Scalar { get; private init; }

        public static Node Parse(byte[] utf8)
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MySqlJsonBinary.MaxDepth + 1 });
            try
            {
                if (!reader.Read()) throw new BinlogFormatException("JSON value is empty");
                return Read(ref reader);
            }
            catch (JsonException e)
            {
                throw new BinlogFormatException($"JSON value is not valid JSON: {e.Message}", e);
            }
        }

        private static Node Read(ref Utf8JsonReader r)
        {
            switch (r.TokenType)
            {
                case JsonTokenType.StartObject:
                {
                    var members = new List<Member>();
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        var name = r.GetString()!;
                        var raw = "\"" + Encoding.UTF8.GetString(r.ValueSpan) + "\"";
                        r.Read();
                        members.Add(new Member(name, raw, Read(ref r)));
                    }
                    return new Node { Members = members };
                }
                case JsonTokenType.StartArray:
                {
                    var elements = new List<Node>();
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) elements.Add(Read(ref r));
                    return new Node { Elements = elements };
                }
                case JsonTokenType.String:
                    return new Node { Scalar = "\"" + Encoding.UTF8.GetString(r.ValueSpan) + "\"" };
                default:
                    return new Node { Scalar = Encoding.UTF8.GetString(r.ValueSpan) };
            }
        }

        public void Write(StringBuilder sb)
        {
            if (Scalar is { } s)
            {
                sb.Append(s);
                return;
            }
            if (Members is { } members)
            {
                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    sb.Append(members[i].RawName).Append(':');
                    members[i].Value.Write(sb);
                }
                sb.Append('}');
                return;
            }
            sb.Append('[');
            for (var i = 0; i < Elements!.Count; i++)
            {
                if (i > 0) sb.Append(',');
                Elements[i].Write(sb);
            }
            sb.Append(']');
        }
    }
}
