using System.Text;

namespace PluginHost.Binlog.Values;

/// <summary>Maps MySQL/MariaDB collation ids to .NET encodings.</summary>
public static class Charsets
{
    /// <summary>The collation id of the <c>binary</c> charset.</summary>
    public const int Binary = 63;

    /// <summary>Collation id used when a table map carries no charset (utf8mb4_general_ci).</summary>
    public const int DefaultUtf8 = 45;

    private static readonly Encoding Utf8 = new UTF8Encoding(false, false);
    private static readonly Encoding Latin1;
    private static readonly Encoding?[] ById = new Encoding?[2048];

    static Charsets()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        // MySQL's latin1 is Windows-1252 with the five holes mapped to the C1 controls.
        Latin1 = Encoding.GetEncoding(1252);
        var cp1251 = Encoding.GetEncoding(1251);
        var cp1250 = Encoding.GetEncoding(1250);
        var cp1256 = Encoding.GetEncoding(1256);
        var cp1257 = Encoding.GetEncoding(1257);
        var ascii = Encoding.ASCII;
        var ucs2 = Encoding.BigEndianUnicode;
        var utf16le = Encoding.Unicode;
        var utf32 = new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        void Set(Encoding e, params int[] ids) { foreach (var id in ids) ById[id] = e; }
        void Range(Encoding e, int from, int to) { for (var id = from; id <= to; id++) ById[id] = e; }

        Set(Latin1, 5, 8, 15, 31, 47, 48, 49, 94);
        Set(ascii, 11, 65);
        Set(cp1251, 14, 23, 50, 51, 52);
        Set(cp1250, 26, 34, 44, 66, 99);
        Set(cp1256, 57, 67);
        Set(cp1257, 29, 58, 59);
        Set(Utf8, 33, 45, 46, 76, 83, 127, 223, 255);
        Range(Utf8, 192, 215);   // utf8mb3 UCA
        Range(Utf8, 224, 247);   // utf8mb4 UCA
        Range(Utf8, 255, 323);   // utf8mb4 0900 (MySQL 8)
        Range(Utf8, 576, 578);   // MariaDB utf8 nopad
        Range(Utf8, 608, 610);   // MariaDB utf8mb4 nopad
        Range(Utf8, 1024, 2047); // MariaDB UCA-14 collations (utf8mb3/utf8mb4)
        Set(ucs2, 35, 90, 159);
        Range(ucs2, 128, 151);
        Set(utf16le, 56, 62);
        Set(Encoding.BigEndianUnicode, 54, 55);
        Range(Encoding.BigEndianUnicode, 101, 124);
        Set(utf32, 60, 61);
        Range(utf32, 160, 183);
    }

    /// <summary>True when the collation denotes binary data (no character set).</summary>
    public static bool IsBinary(int collationId) => collationId == Binary;

    /// <summary>The encoding for a collation id; unknown ids decode as UTF-8.</summary>
    public static Encoding GetEncoding(int collationId) =>
        (uint)collationId < (uint)ById.Length ? ById[collationId] ?? Utf8 : Utf8;

    /// <summary>True for the UTF-8 family, where bytes can be copied to JSON without re-encoding.</summary>
    public static bool IsUtf8(int collationId) => ReferenceEquals(GetEncoding(collationId), Utf8);
}
