using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace PluginHost.Binlog.Values;

/// <summary>
/// The JSON of the common column values (numbers, DECIMAL, dates and times, ASCII text, binary) written straight as
/// UTF-8 bytes, exactly as <see cref="ColumnValueJson"/> writes them through a <c>Utf8JsonWriter</c> with the relaxed
/// encoder; every other value (text beyond ASCII or with characters JSON escapes, ENUM, SET, JSON) is left to it.
/// </summary>
public static class ColumnValueUtf8
{
    /// <summary>Bytes <see cref="TryWrite"/> needs beyond <see cref="RoomFor"/>'s share for the value's stored bytes.</summary>
    private const int FixedRoom = 96;

    // What the relaxed encoder writes as it is: printable ASCII but the quote and the backslash.
    internal static readonly SearchValues<byte> Plain = SearchValues.Create(PlainAscii);

    /// <summary>Printable ASCII but the quote and the backslash: the characters the event JSON writes as they are.</summary>
    public static ReadOnlySpan<byte> PlainAscii => " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8;

    /// <summary>The room <see cref="TryWrite"/> may use for <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoomFor(in ColumnValue v) => FixedRoom + 2 * Math.Max(v.RawBytes.Length, v.BinaryLength);

    /// <summary>
    /// Writes the JSON of <paramref name="v"/> into <paramref name="dest"/> (at least <see cref="RoomFor"/> bytes);
    /// returns the bytes written, or -1, having written nothing, when the value is one for <see cref="ColumnValueJson"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int TryWrite(in ColumnValue v, Span<byte> dest)
    {
        int n;
        switch (v.Kind)
        {
            case ValueKind.Missing:
            case ValueKind.Null:
                "null"u8.CopyTo(dest);
                return 4;
            case ValueKind.Int:
            case ValueKind.Year:
                v.Int64.TryFormat(dest, out n, default, CultureInfo.InvariantCulture);
                return n;
            case ValueKind.UInt:
            case ValueKind.Bit:
                v.UInt64.TryFormat(dest, out n, default, CultureInfo.InvariantCulture);
                return n;
            case ValueKind.Float:
                v.Float.TryFormat(dest, out n, default, CultureInfo.InvariantCulture);
                return n;
            case ValueKind.Double:
                v.Double.TryFormat(dest, out n, default, CultureInfo.InvariantCulture);
                return n;
            case ValueKind.Decimal:
                if (v.RawBytes.IsEmpty) return -1; // an old-style DECIMAL: digits of any length
                n = v.FormatDecimal(dest[1..]);
                return Quote(dest, n);
            case ValueKind.String:
            {
                var raw = v.RawBytes;
                if (raw.ContainsAnyExcept(Plain) || !Charsets.IsAsciiTransparent(v.Aux)) return -1;
                raw.CopyTo(dest[1..]);
                return Quote(dest, raw.Length);
            }
            case ValueKind.Bytes:
            case ValueKind.Geometry:
            {
                if (v.BinaryLength != v.RawBytes.Length) return WritePadded(v, dest);
                Base64.EncodeToUtf8(v.RawBytes, dest[1..], out _, out n);
                return Quote(dest, n);
            }
            case ValueKind.Date:
                v.DateTimeParts.WriteDate(dest[1..]);
                return Quote(dest, 10);
            case ValueKind.DateTime:
                return Quote(dest, v.DateTimeParts.FormatDateTime(dest[1..], v.Scale, ' '));
            case ValueKind.Time:
                return Quote(dest, v.DateTimeParts.FormatTime(dest[1..], v.Scale));
            case ValueKind.Timestamp:
                return Quote(dest, v.FormatTimestamp(dest[1..]));
            default:
                return -1;
        }
    }

    /// <summary>BINARY(n), n ≤ 255: the zero padding the binlog leaves out restored.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int WritePadded(in ColumnValue v, Span<byte> dest)
    {
        Span<byte> padded = stackalloc byte[256];
        var length = v.CopyBinaryTo(padded);
        Base64.EncodeToUtf8(padded[..length], dest[1..], out _, out var n);
        return Quote(dest, n);
    }

    /// <summary>Puts quotes around the <paramref name="length"/> bytes written at <c>dest[1..]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Quote(Span<byte> dest, int length)
    {
        dest[0] = (byte)'"';
        dest[length + 1] = (byte)'"';
        return length + 2;
    }
}
