using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace PluginHost.Tests.Binlog.Json;

// A tiny JSON model for the test-side encoder: what MySQL can store, including opaque values.
internal abstract record TNode;
internal sealed record TObject(List<(string Key, TNode Value)> Members) : TNode;
internal sealed record TArray(List<TNode> Items) : TNode;
internal sealed record TString(string Value) : TNode;
internal sealed record TInt(long Value) : TNode;
internal sealed record TUInt(ulong Value) : TNode;
internal sealed record TDouble(double Value) : TNode;
internal sealed record TBool(bool Value) : TNode;
internal sealed record TNull : TNode;

/// <summary>An opaque value and the exact text MySQL prints for it.</summary>
internal sealed record TOpaque(byte FieldType, byte[] Data, string ExpectedText) : TNode;

/// <summary>
/// Test-side encoder JSON → MySQL binary JSON, written from the format description in sql-common/json_binary.h:
/// keys sorted by length then bytes, small format unless an offset does not fit 16 bits (or large is forced),
/// literals and 16-bit ints inlined (32-bit ints too in the large format), ints in the smallest signed type.
/// </summary>
internal static class MySqlJsonTestEncoder
{
    public static byte[] Encode(string json, bool forceLarge = false) => Encode(FromJson(json), forceLarge);

    public static byte[] Encode(TNode node, bool forceLarge = false)
    {
        var (type, bytes) = EncodeValue(node, forceLarge);
        return [type, .. bytes];
    }

    /// <summary>Converts JSON text to the model: integers without '.'/exponent become ints, the rest doubles.</summary>
    public static TNode FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 512 });
        return FromElement(doc.RootElement);
    }

    public static TNode FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => new TObject(e.EnumerateObject().Select(p => (p.Name, FromElement(p.Value))).ToList()),
        JsonValueKind.Array => new TArray(e.EnumerateArray().Select(FromElement).ToList()),
        JsonValueKind.String => new TString(e.GetString()!),
        JsonValueKind.True => new TBool(true),
        JsonValueKind.False => new TBool(false),
        JsonValueKind.Null => new TNull(),
        JsonValueKind.Number => Number(e),
        _ => throw new ArgumentException(e.ValueKind.ToString()),
    };

    private static TNode Number(JsonElement e)
    {
        var raw = e.GetRawText();
        var integral = raw.IndexOfAny(['.', 'e', 'E']) < 0;
        if (integral && e.TryGetInt64(out var l)) return new TInt(l);
        if (integral && e.TryGetUInt64(out var u)) return new TUInt(u);
        return new TDouble(e.GetDouble());
    }

    /// <summary>MySQL's object key order: shorter keys first, then bytewise.</summary>
    public static List<(string Key, TNode Value)> SortedMembers(TObject o) =>
        o.Members.OrderBy(m => Encoding.UTF8.GetByteCount(m.Key))
            .ThenBy(m => Encoding.UTF8.GetBytes(m.Key), ByteComparer.Instance).ToList();

    public static (byte Type, byte[] Bytes) EncodeValue(TNode node, bool forceLarge) => node switch
    {
        TObject o => EncodeContainer(true, SortedMembers(o).Select(m => ((string?)m.Key, m.Value)).ToList(), forceLarge),
        TArray a => EncodeContainer(false, a.Items.Select(i => ((string?)null, i)).ToList(), forceLarge),
        TString s => (0x0c, [.. VarLength(Encoding.UTF8.GetByteCount(s.Value)), .. Encoding.UTF8.GetBytes(s.Value)]),
        TInt i when i.Value is >= short.MinValue and <= short.MaxValue => (0x05, Le((short)i.Value)),
        TInt i when i.Value is >= int.MinValue and <= int.MaxValue => (0x07, Le((int)i.Value)),
        TInt i => (0x09, Le(i.Value)),
        TUInt u when u.Value <= ushort.MaxValue => (0x06, Le((ushort)u.Value)),
        TUInt u when u.Value <= uint.MaxValue => (0x08, Le((uint)u.Value)),
        TUInt u => (0x0a, Le(u.Value)),
        TDouble d => (0x0b, Le(BitConverter.DoubleToInt64Bits(d.Value))),
        TBool b => (0x04, [b.Value ? (byte)1 : (byte)2]),
        TNull => (0x04, [0]),
        TOpaque op => (0x0f, [op.FieldType, .. VarLength(op.Data.Length), .. op.Data]),
        _ => throw new ArgumentException(node.GetType().Name),
    };

    private static (byte, byte[]) EncodeContainer(bool isObject, List<(string? Key, TNode Value)> items, bool forceLarge)
    {
        var children = items.Select(i => (i.Key, Child: EncodeValue(i.Value, forceLarge))).ToList();
        if (!forceLarge)
        {
            var small = Build(isObject, children, large: false);
            if (small is not null) return ((byte)(isObject ? 0x00 : 0x02), small);
        }
        return ((byte)(isObject ? 0x01 : 0x03), Build(isObject, children, large: true)!);
    }

    /// <summary>Lays out a container from already encoded children; null when the small format cannot hold it.</summary>
    public static byte[]? Build(bool isObject, List<(string? Key, (byte Type, byte[] Bytes) Child)> children, bool large)
    {
        var os = large ? 4 : 2;
        var n = children.Count;
        var header = 2 * os + n * ((isObject ? os + 2 : 0) + 1 + os);
        var keys = children.Select(c => Encoding.UTF8.GetBytes(c.Key ?? "")).ToList();
        var size = header + (isObject ? keys.Sum(k => k.Length) : 0) +
                   children.Where(c => !Inlined(c.Child.Type, large)).Sum(c => c.Child.Bytes.Length);
        var max = large ? uint.MaxValue : ushort.MaxValue;
        if ((ulong)size > max || (ulong)n > max) return null;

        var buf = new byte[size];
        WriteOffset(buf, 0, n, large);
        WriteOffset(buf, os, size, large);
        var pos = header;
        if (isObject)
        {
            for (var i = 0; i < n; i++)
            {
                var entry = 2 * os + i * (os + 2);
                WriteOffset(buf, entry, pos, large);
                BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(entry + os), checked((ushort)keys[i].Length));
                keys[i].CopyTo(buf, pos);
                pos += keys[i].Length;
            }
        }
        var valueEntries = 2 * os + (isObject ? n * (os + 2) : 0);
        for (var i = 0; i < n; i++)
        {
            var entry = valueEntries + i * (1 + os);
            var (type, bytes) = children[i].Child;
            buf[entry] = type;
            if (Inlined(type, large))
            {
                bytes.CopyTo(buf, entry + 1);
            }
            else
            {
                WriteOffset(buf, entry + 1, pos, large);
                bytes.CopyTo(buf, pos);
                pos += bytes.Length;
            }
        }
        return buf;
    }

    private static bool Inlined(byte type, bool large) => type is 0x04 or 0x05 or 0x06 || (large && type is 0x07 or 0x08);

    private static void WriteOffset(byte[] buf, int at, long value, bool large)
    {
        if (large) BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(at), (uint)value);
        else BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(at), (ushort)value);
    }

    public static byte[] VarLength(long length)
    {
        var result = new List<byte>();
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            if (length != 0) b |= 0x80;
            result.Add(b);
        } while (length != 0);
        return result.ToArray();
    }

    private static byte[] Le(short v) { var b = new byte[2]; BinaryPrimitives.WriteInt16LittleEndian(b, v); return b; }
    private static byte[] Le(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private static byte[] Le(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; }
    private static byte[] Le(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    private static byte[] Le(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return b; }
    private static byte[] Le(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }

    // ------------------------------------------------------------ opaque helpers

    /// <summary>An opaque DECIMAL from its text, e.g. ("-12.340", 10, 3), in MySQL's decimal2bin layout.</summary>
    public static TOpaque Decimal(string text, int precision, int scale)
    {
        var negative = text.StartsWith('-');
        var t = negative ? text[1..] : text;
        var parts = t.Split('.');
        var intText = parts[0].TrimStart('0');
        var fracText = parts.Length > 1 ? parts[1] : "";
        if (fracText.Length != scale || intText.Length > precision - scale) throw new ArgumentException(text);
        int[] dig2bytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
        var intg = precision - scale;
        var intDigits = intText.PadLeft(intg, '0');
        var bytes = new List<byte>();
        void Group(string digits)
        {
            var v = uint.Parse(digits.Length == 0 ? "0" : digits, CultureInfo.InvariantCulture);
            var count = dig2bytes[digits.Length];
            for (var i = count - 1; i >= 0; i--) bytes.Add((byte)(v >> (8 * i)));
        }
        var lead = intg % 9;
        if (lead > 0) Group(intDigits[..lead]);
        for (var i = lead; i < intg; i += 9) Group(intDigits.Substring(i, 9));
        for (var i = 0; i + 9 <= scale; i += 9) Group(fracText.Substring(i, 9));
        if (scale % 9 > 0) Group(fracText[(scale - scale % 9)..]);
        var bin = bytes.ToArray();
        if (negative) for (var i = 0; i < bin.Length; i++) bin[i] ^= 0xff;
        if (bin.Length > 0) bin[0] ^= 0x80;
        var isZero = (intText + fracText).Trim('0').Length == 0;
        var expected = (negative && !isZero ? "-" : "") + (intText.Length == 0 ? "0" : intText) + (scale > 0 ? "." + fracText : "");
        return new TOpaque(246, [(byte)precision, (byte)scale, .. bin], expected);
    }

    /// <summary>MySQL's packed DATETIME longlong (also DATE with a zero time, and TIMESTAMP).</summary>
    public static long PackDateTime(int year, int month, int day, int hour, int minute, int second, int micro)
    {
        long ymd = ((long)(year * 13 + month) << 5) | (long)day;
        long hms = ((long)hour << 12) | ((long)minute << 6) | (long)second;
        return (((ymd << 17) | hms) << 24) + micro;
    }

    /// <summary>MySQL's packed TIME longlong.</summary>
    public static long PackTime(bool negative, int hour, int minute, int second, int micro)
    {
        long hms = ((long)hour << 12) | ((long)minute << 6) | (long)second;
        var v = (hms << 24) + micro;
        return negative ? -v : v;
    }

    public static TOpaque Temporal(byte fieldType, long packed, string expected) =>
        new(fieldType, Le(packed), "\"" + expected + "\"");

    // ------------------------------------------------------------ checking decoded text against the model

    /// <summary>Asserts that <paramref name="json"/> (decoder output) denotes exactly <paramref name="expected"/>, keys in MySQL order.</summary>
    public static void AssertMatches(TNode expected, string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 512 });
        AssertMatches(expected, doc.RootElement, "$");
    }

    private static void AssertMatches(TNode expected, JsonElement e, string path)
    {
        switch (expected)
        {
            case TObject o:
            {
                Assert.True(e.ValueKind == JsonValueKind.Object, $"{path}: expected object, got {e.ValueKind}");
                var members = SortedMembers(o);
                var actual = e.EnumerateObject().ToList();
                Assert.True(members.Count == actual.Count, $"{path}: member count {actual.Count}, expected {members.Count}");
                for (var i = 0; i < members.Count; i++)
                {
                    Assert.True(members[i].Key == actual[i].Name, $"{path}: key #{i} is {actual[i].Name}, expected {members[i].Key}");
                    AssertMatches(members[i].Value, actual[i].Value, path + "." + members[i].Key);
                }
                break;
            }
            case TArray a:
            {
                Assert.True(e.ValueKind == JsonValueKind.Array, $"{path}: expected array, got {e.ValueKind}");
                Assert.Equal(a.Items.Count, e.GetArrayLength());
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    AssertMatches(a.Items[i], item, $"{path}[{i}]");
                    i++;
                }
                break;
            }
            case TString s:
                Assert.Equal(JsonValueKind.String, e.ValueKind);
                Assert.Equal(s.Value, e.GetString());
                break;
            case TInt i:
                Assert.Equal(i.Value.ToString(CultureInfo.InvariantCulture), e.GetRawText());
                break;
            case TUInt u:
                Assert.Equal(u.Value.ToString(CultureInfo.InvariantCulture), e.GetRawText());
                break;
            case TDouble d:
            {
                var raw = e.GetRawText();
                Assert.True(raw.IndexOfAny(['.', 'e']) >= 0, $"{path}: double {raw} lacks '.' or 'e'");
                var parsed = double.Parse(raw, CultureInfo.InvariantCulture);
                Assert.True(BitConverter.DoubleToInt64Bits(d.Value) == BitConverter.DoubleToInt64Bits(parsed),
                    $"{path}: {raw} does not round-trip to {d.Value:R}");
                break;
            }
            case TBool b:
                Assert.Equal(b.Value ? JsonValueKind.True : JsonValueKind.False, e.ValueKind);
                break;
            case TNull:
                Assert.Equal(JsonValueKind.Null, e.ValueKind);
                break;
            case TOpaque op:
                Assert.Equal(op.ExpectedText, e.GetRawText());
                break;
        }
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>Random documents for round-trip and fuzz tests.</summary>
internal sealed class RandomJson(int seed)
{
    private readonly Random _r = new(seed);

    public Random Random => _r;

    public TNode Document(int maxDepth = 6) => Value(0, maxDepth);

    private TNode Value(int depth, int maxDepth)
    {
        var pick = _r.Next(depth >= maxDepth ? 4 : 12);
        return pick switch
        {
            0 => new TString(String()),
            1 => Integer(),
            2 => new TDouble(Double()),
            3 => _r.Next(3) switch { 0 => new TBool(true), 1 => new TBool(false), _ => new TNull() },
            4 => Opaque(),
            5 or 6 or 7 => Array(depth, maxDepth),
            _ => Object(depth, maxDepth),
        };
    }

    private TNode Array(int depth, int maxDepth)
    {
        var n = _r.Next(8) == 0 ? _r.Next(40) : _r.Next(5);
        var items = new List<TNode>();
        for (var i = 0; i < n; i++) items.Add(Value(depth + 1, maxDepth));
        return new TArray(items);
    }

    private TNode Object(int depth, int maxDepth)
    {
        var n = _r.Next(8) == 0 ? _r.Next(40) : _r.Next(5);
        var members = new List<(string, TNode)>();
        var seen = new HashSet<string>();
        for (var i = 0; i < n; i++)
        {
            var key = String(maxLength: 12);
            if (seen.Add(key)) members.Add((key, Value(depth + 1, maxDepth)));
        }
        return new TObject(members);
    }

    public TNode Integer() => _r.Next(6) switch
    {
        0 => new TInt(_r.Next(-300, 300)),
        1 => new TInt(_r.Next(short.MinValue, short.MaxValue + 1)),
        2 => new TInt(_r.Next()  * (_r.Next(2) == 0 ? -1L : 1L)),
        3 => new TInt(_r.NextInt64(long.MinValue, long.MaxValue)),
        4 => new TUInt((ulong)_r.NextInt64(0, long.MaxValue) + (ulong)long.MaxValue + 1),
        _ => new TInt(_r.Next(2) == 0 ? long.MinValue : long.MaxValue),
    };

    public double Double()
    {
        switch (_r.Next(6))
        {
            case 0: return Math.Round(_r.NextDouble() * 1000, _r.Next(4)) * (_r.Next(2) == 0 ? -1 : 1);
            case 1: return _r.Next(-1000, 1000);
            case 2: return Math.Pow(10, _r.Next(-30, 30)) * (_r.Next(2) == 0 ? 1 : 1.5);
            case 3: return _r.Next(2) == 0 ? 0.0 : -0.0;
            default:
                while (true)
                {
                    var d = BitConverter.Int64BitsToDouble(_r.NextInt64());
                    if (double.IsFinite(d)) return d;
                }
        }
    }

    public string String(int maxLength = 20)
    {
        var length = _r.Next(10) == 0 ? _r.Next(300) : _r.Next(maxLength);
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            switch (_r.Next(10))
            {
                case 0: sb.Append((char)_r.Next(0, 0x20)); break;
                case 1: sb.Append("\"\\/\u007f"[_r.Next(4)]); break;
                case 2: sb.Append((char)_r.Next(0xa0, 0x800)); break;
                case 3: sb.Append((char)_r.Next(0x3000, 0xd7ff)); break;
                case 4: sb.Append(char.ConvertFromUtf32(_r.Next(0x10000, 0x10ffff))); break;
                default: sb.Append((char)_r.Next(0x20, 0x7f)); break;
            }
        }
        return sb.ToString();
    }

    public TOpaque Opaque()
    {
        switch (_r.Next(5))
        {
            case 0:
            {
                var precision = _r.Next(1, 66);
                var scale = _r.Next(0, Math.Min(30, precision) + 1);
                var intDigits = precision - scale;
                var sb = new StringBuilder();
                if (_r.Next(2) == 0) sb.Append('-');
                var intLen = intDigits == 0 ? 0 : _r.Next(0, intDigits + 1);
                for (var i = 0; i < intLen; i++) sb.Append((char)('0' + _r.Next(10)));
                if (intLen == 0) sb.Append('0');
                if (scale > 0)
                {
                    sb.Append('.');
                    for (var i = 0; i < scale; i++) sb.Append((char)('0' + _r.Next(10)));
                }
                var text = sb.ToString();
                var op = MySqlJsonTestEncoder.Decimal(text, precision, scale);
                return op;
            }
            case 1:
            {
                int y = _r.Next(0, 10000), mo = _r.Next(0, 13), d = _r.Next(0, 32), h = _r.Next(24), mi = _r.Next(60), s = _r.Next(60), us = _r.Next(1_000_000);
                var field = _r.Next(2) == 0 ? (byte)12 : (byte)7;
                return MySqlJsonTestEncoder.Temporal(field, MySqlJsonTestEncoder.PackDateTime(y, mo, d, h, mi, s, us),
                    $"{y:D4}-{mo:D2}-{d:D2} {h:D2}:{mi:D2}:{s:D2}.{us:D6}");
            }
            case 2:
            {
                int y = _r.Next(0, 10000), mo = _r.Next(0, 13), d = _r.Next(0, 32);
                return MySqlJsonTestEncoder.Temporal(10, MySqlJsonTestEncoder.PackDateTime(y, mo, d, 0, 0, 0, 0), $"{y:D4}-{mo:D2}-{d:D2}");
            }
            case 3:
            {
                var neg = _r.Next(2) == 0;
                int h = _r.Next(839), mi = _r.Next(60), s = _r.Next(60), us = _r.Next(1_000_000);
                if (h == 0 && mi == 0 && s == 0 && us == 0) neg = false;
                return MySqlJsonTestEncoder.Temporal(11, MySqlJsonTestEncoder.PackTime(neg, h, mi, s, us),
                    $"{(neg ? "-" : "")}{h:D2}:{mi:D2}:{s:D2}.{us:D6}");
            }
            default:
            {
                var data = new byte[_r.Next(8) == 0 ? _r.Next(300) : _r.Next(10)];
                _r.NextBytes(data);
                byte field = (byte)(_r.Next(2) == 0 ? 252 : 16);
                var b64 = Convert.ToBase64String(data);
                var lines = Enumerable.Range(0, (b64.Length + 75) / 76).Select(i => b64.Substring(i * 76, Math.Min(76, b64.Length - i * 76)));
                return new TOpaque(field, data, $"\"base64:type{field}:{string.Join("\\n", lines)}\"");
            }
        }
    }
}
