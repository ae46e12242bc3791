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
    private static readonly Dictionary<string, int> DefaultIds = new(StringComparer.OrdinalIgnoreCase);
    private static readonly string?[] NameById;

    // Encodings are made when first asked for (a code page's tables are big and most programs need one or two sets):
    // by character set under the lock, by collation id in arrays read without it.
    private static readonly Dictionary<string, Encoding> ByCharset = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Encoding?[] ById;
    private static readonly byte[] AsciiById; // 0 not known yet, 1 no, 2 yes
    private static Encoding? _unknown;

    static Charsets()
    {
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
        var length = 0;
        foreach (var (id, _) in ids) length = Math.Max(length, id + 1);
        NameById = new string?[length];
        foreach (var (id, name) in ids) NameById[id] = name;
        ById = new Encoding?[length];
        AsciiById = new byte[length];
    }

    /// <summary>The encoding of a character set the servers define, made on first use; null for a name they do not.</summary>
    private static Encoding? Make(string charset)
    {
        switch (charset.ToLowerInvariant())
        {
            case "utf8" or "utf8mb3" or "utf8mb4" or "binary": return Utf8; // binary values are bytes, never decoded as text
            case "ucs2" or "utf16": return Encoding.BigEndianUnicode;
            case "utf16le": return Encoding.Unicode;
            case "utf32": return new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        }
        foreach (var (name, table) in CharsetData.SingleByte)
            if (name.Equals(charset, StringComparison.OrdinalIgnoreCase)) return new SingleByteEncoding(name, table);
        foreach (var (name, codePage, kind, overrides) in CharsetData.MultiByte)
        {
            if (!name.Equals(charset, StringComparison.OrdinalIgnoreCase)) continue;
            Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
            var basis = Encoding.GetEncoding(codePage, EncoderFallback.ReplacementFallback, new DecoderReplacementFallback("\uFFFD"));
            return overrides.Length == 0 && kind != SequenceKind.EucJp
                ? basis
                : new MultiByteEncoding(name, basis, kind, overrides, kind == SequenceKind.EucJp ? CharsetData.Jisx0212 : null);
        }
        return null;
    }

    /// <summary>A character set's encoding, made once.</summary>
    private static Encoding? ByName(string charset)
    {
        lock (ByCharset)
        {
            if (ByCharset.TryGetValue(charset, out var known)) return known;
            var made = Make(charset);
            if (made != null) ByCharset[charset] = made;
            return made;
        }
    }

    private static Encoding Unknown =>
        _unknown ??= Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new HexDecoderFallback());

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
    public static bool IsAsciiTransparent(int collationId)
    {
        if ((uint)collationId >= (uint)AsciiById.Length) return false;
        var known = AsciiById[collationId];
        if (known != 0) return known == 2;
        var yes = NameById[collationId] != null && collationId != Binary
                  && (GetEncoding(collationId) is var e && (ReferenceEquals(e, Utf8) || DecodesAsciiAsAscii(e)));
        AsciiById[collationId] = yes ? (byte)2 : (byte)1;
        return yes;
    }

    /// <summary>True when the collation denotes binary data (no character set).</summary>
    public static bool IsBinary(int collationId) => collationId == Binary;

    /// <summary>The encoding for a collation id; an unknown id decodes as UTF-8, bytes that are not UTF-8 as <c>\xNN</c>.</summary>
    public static Encoding GetEncoding(int collationId)
    {
        if ((uint)collationId >= (uint)ById.Length) return Unknown;
        return ById[collationId] ?? (ById[collationId] = NameById[collationId] is { } name ? ByName(name) ?? Unknown : Unknown);
    }

    /// <summary>True for the UTF-8 family, where bytes can be copied to JSON without re-encoding.</summary>
    public static bool IsUtf8(int collationId) => ReferenceEquals(GetEncoding(collationId), Utf8);

    /// <summary>True when the collation id is one MariaDB or MySQL defines (see <see cref="GetCharsetName"/>).</summary>
    public static bool IsKnown(int collationId) => GetCharsetName(collationId) != null;

    /// <summary>The character set of a collation id (<c>latin1</c>, <c>utf8mb4</c>, ...); null when the id is unknown.</summary>
    public static string? GetCharsetName(int collationId) =>
        (uint)collationId < (uint)NameById.Length ? NameById[collationId] : null;

    /// <summary>The encoding of a character set by its server name (case-insensitive); null when unknown.</summary>
    public static Encoding? GetCharsetEncoding(string charset) => ByName(charset);

    /// <summary>The id of a character set's default collation (e.g. to stand for a collation the server lists without
    /// an id, such as MariaDB's <c>utf8mb4_uca1400_ai_ci</c> in <c>information_schema.COLLATIONS</c>); null when unknown.</summary>
    public static int? GetDefaultCollationId(string charset) => DefaultIds.TryGetValue(charset, out var id) ? id : null;
}
