using System.Globalization;
using System.Text;

namespace PluginHost.Binlog.Values;

/// <summary>
/// Maps MySQL/MariaDB collation ids to .NET encodings: every id MariaDB 10.11 and MySQL 8.4 define (generated from the
/// server by scripts/generate-charsets.cs), each decoding as the server does (docs/character-sets.md). An id it does not
/// know decodes as UTF-8, with each byte that is not UTF-8 shown as <c>\xNN</c>.
/// </summary>
public static class Charsets
{
    /// <summary>The collation id of the <c>binary</c> charset.</summary>
    public const int Binary = 63;

    /// <summary>Collation id used when a table map carries no charset (utf8mb4_general_ci).</summary>
    public const int DefaultUtf8 = 45;

    private static readonly Encoding Utf8 = new UTF8Encoding(false, false);
    private static readonly Encoding Unknown = Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new HexDecoderFallback());
    private static readonly Dictionary<string, Encoding> ByCharset = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Dictionary<string, int> DefaultIds = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Encoding?[] ById;
    private static readonly string?[] NameById;
    private static readonly bool[] AsciiById;

    static Charsets()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        ByCharset["utf8"] = ByCharset["utf8mb3"] = ByCharset["utf8mb4"] = Utf8;
        ByCharset["ucs2"] = ByCharset["utf16"] = Encoding.BigEndianUnicode;
        ByCharset["utf16le"] = Encoding.Unicode;
        ByCharset["utf32"] = new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        ByCharset["binary"] = Utf8; // never decoded as text: binary values are bytes
        foreach (var (name, table) in CharsetData.SingleByte) ByCharset[name] = new SingleByteEncoding(name, table);
        foreach (var (name, codePage, kind, overrides) in CharsetData.MultiByte)
        {
            var basis = Encoding.GetEncoding(codePage, EncoderFallback.ReplacementFallback, new DecoderReplacementFallback("\uFFFD"));
            ByCharset[name] = overrides.Length == 0 && kind != SequenceKind.EucJp
                ? basis
                : new MultiByteEncoding(name, basis, kind, overrides, kind == SequenceKind.EucJp ? CharsetData.Jisx0212 : null);
        }

        var ids = new List<(int Id, string Charset)>();
        foreach (var (name, defaultId, list) in CharsetData.Collations)
        {
            DefaultIds[name] = defaultId;
            foreach (var part in list.Split(','))
            {
                var dash = part.IndexOf('-', StringComparison.Ordinal);
                var from = int.Parse(dash < 0 ? part : part[..dash], CultureInfo.InvariantCulture);
                var to = dash < 0 ? from : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
                for (var id = from; id <= to; id++) ids.Add((id, name));
            }
        }
        DefaultIds["utf8"] = DefaultIds["utf8mb3"];
        ById = new Encoding?[ids.Max(i => i.Id) + 1];
        NameById = new string?[ById.Length];
        foreach (var (id, name) in ids)
        {
            ById[id] = ByCharset[name];
            NameById[id] = name;
        }
        AsciiById = new bool[ById.Length];
        var ascii = new Dictionary<Encoding, bool>();
        for (var id = 0; id < ById.Length; id++)
            if (ById[id] is { } e && id != Binary)
            {
                if (!ascii.TryGetValue(e, out var same)) ascii[e] = same = DecodesAsciiAsAscii(e);
                AsciiById[id] = same;
            }
    }

    /// <summary>True when each byte 0x00–0x7F alone decodes to the same character (so a value of only such bytes is
    /// its own UTF-8): every single-byte set and the multi-byte sets whose lead bytes are all ≥ 0x80.</summary>
    private static bool DecodesAsciiAsAscii(Encoding e)
    {
        if (e is UnicodeEncoding or UTF32Encoding) return false;
        Span<byte> b = stackalloc byte[1];
        Span<char> c = stackalloc char[4];
        for (var i = 0; i < 128; i++)
        {
            b[0] = (byte)i;
            if (e.GetChars(b, c) != 1 || c[0] != i) return false;
        }
        return true;
    }

    /// <summary>True when a value of this collation that holds only ASCII bytes reads as those ASCII characters, so its
    /// bytes can be written to JSON as they are.</summary>
    public static bool IsAsciiTransparent(int collationId) =>
        (uint)collationId < (uint)AsciiById.Length && AsciiById[collationId];

    /// <summary>True when the collation denotes binary data (no character set).</summary>
    public static bool IsBinary(int collationId) => collationId == Binary;

    /// <summary>The encoding for a collation id; an unknown id decodes as UTF-8, bytes that are not UTF-8 as <c>\xNN</c>.</summary>
    public static Encoding GetEncoding(int collationId) =>
        (uint)collationId < (uint)ById.Length ? ById[collationId] ?? Unknown : Unknown;

    /// <summary>True for the UTF-8 family, where bytes can be copied to JSON without re-encoding.</summary>
    public static bool IsUtf8(int collationId) => ReferenceEquals(GetEncoding(collationId), Utf8);

    /// <summary>True when the collation id is one MariaDB or MySQL defines (see <see cref="GetCharsetName"/>).</summary>
    public static bool IsKnown(int collationId) => GetCharsetName(collationId) != null;

    /// <summary>The character set of a collation id (<c>latin1</c>, <c>utf8mb4</c>, ...); null when the id is unknown.</summary>
    public static string? GetCharsetName(int collationId) =>
        (uint)collationId < (uint)NameById.Length ? NameById[collationId] : null;

    /// <summary>The encoding of a character set by its server name (case-insensitive); null when unknown.</summary>
    public static Encoding? GetCharsetEncoding(string charset) => ByCharset.GetValueOrDefault(charset);

    /// <summary>The id of a character set's default collation (e.g. to stand for a collation the server lists without
    /// an id, such as MariaDB's <c>utf8mb4_uca1400_ai_ci</c> in <c>information_schema.COLLATIONS</c>); null when unknown.</summary>
    public static int? GetDefaultCollationId(string charset) => DefaultIds.TryGetValue(charset, out var id) ? id : null;
}
