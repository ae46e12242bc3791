using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PluginHost.Binlog.Json;

namespace PluginHost.Binlog.Values;

/// <summary>
/// One decoded column value of a row image. A small struct: integers, floats, dates and times are held inline;
/// text, binary, DECIMAL and JSON stay as a slice of the event's bytes and are materialised on access,
/// so decoding a row allocates nothing per column.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct ColumnValue
{
    private readonly object? _ref;
    private readonly long _bits;
    private readonly ushort _aux;
    private readonly byte _scale;

    /// <summary>What this value holds.</summary>
    public ValueKind Kind { get; }

    private ColumnValue(ValueKind kind, long bits, object? reference = null, ushort aux = 0, byte scale = 0)
    {
        Kind = kind;
        _bits = bits;
        _ref = reference;
        _aux = aux;
        _scale = scale;
    }

    /// <summary>SQL NULL.</summary>
    public static ColumnValue Null => new(ValueKind.Null, 0);

    public static ColumnValue FromInt(long v) => new(ValueKind.Int, v);
    public static ColumnValue FromUInt(ulong v) => new(ValueKind.UInt, (long)v);
    public static ColumnValue FromFloat(float v) => new(ValueKind.Float, BitConverter.SingleToInt32Bits(v));
    public static ColumnValue FromDouble(double v) => new(ValueKind.Double, BitConverter.DoubleToInt64Bits(v));
    public static ColumnValue FromYear(int year) => new(ValueKind.Year, year);
    public static ColumnValue FromBit(ulong v, int bitCount) => new(ValueKind.Bit, (long)v, aux: (ushort)bitCount);

    /// <summary>ENUM by its 1-based index (0 is the empty "error" value); labels come from table metadata when known.</summary>
    public static ColumnValue FromEnum(int index, string[]? labels) => new(ValueKind.Enum, index, labels);

    /// <summary>SET by its bit mask; labels come from table metadata when known.</summary>
    public static ColumnValue FromSet(ulong mask, string[]? labels) => new(ValueKind.Set, (long)mask, labels);

    public static ColumnValue FromDate(in MySqlDateTime d) => new(ValueKind.Date, d.Pack(), aux: (ushort)d.Year);
    public static ColumnValue FromDateTime(in MySqlDateTime d, int fsp) => new(ValueKind.DateTime, d.Pack(), aux: (ushort)d.Year, scale: (byte)fsp);
    public static ColumnValue FromTime(in MySqlDateTime d, int fsp) => new(ValueKind.Time, d.Pack(), aux: (ushort)d.Year, scale: (byte)fsp);

    /// <summary>TIMESTAMP from seconds and microseconds since the epoch.</summary>
    public static ColumnValue FromTimestamp(long seconds, int microseconds, int fsp) =>
        new(ValueKind.Timestamp, seconds * 1_000_000 + microseconds, scale: (byte)fsp);

    /// <summary>A value that lives in <paramref name="buffer"/> at [offset, offset+length).</summary>
    internal static ColumnValue FromSlice(ValueKind kind, byte[] buffer, int offset, int length, ushort aux = 0, byte scale = 0) =>
        new(kind, ((long)offset << 32) | (uint)length, buffer, aux, scale);

    /// <summary>A MySQL JSON value given as compact JSON text in UTF-8 (a partial JSON update applied to its before
    /// value), printed like binary JSON decoded by <see cref="MySqlJsonBinary"/>.</summary>
    internal static ColumnValue FromMySqlJsonText(byte[] utf8) => FromSlice(ValueKind.Json, utf8, 0, utf8.Length, 0, JsonTextMarker);

    /// <summary>Set in the scale of a Json value that holds MySQL JSON as text rather than binary.</summary>
    private const byte JsonTextMarker = 1;

    /// <summary>Text from a .NET string (for values not backed by event bytes).</summary>
    public static ColumnValue FromString(string s)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(s);
        return FromSlice(ValueKind.String, bytes, 0, bytes.Length, Charsets.DefaultUtf8);
    }

    public bool IsNull => Kind == ValueKind.Null;
    public bool IsMissing => Kind == ValueKind.Missing;

    /// <summary>Signed integer value (Int, Year, Enum index).</summary>
    public long Int64 => _bits;

    /// <summary>Unsigned integer value (UInt, Bit, Set mask).</summary>
    public ulong UInt64 => (ulong)_bits;

    public float Float => BitConverter.Int32BitsToSingle((int)_bits);
    public double Double => BitConverter.Int64BitsToDouble(_bits);

    /// <summary>Fractional-second digits of DATETIME/TIME/TIMESTAMP, or the scale of a DECIMAL.</summary>
    public int Scale => _scale;

    /// <summary>Collation id of a String value; precision of a DECIMAL; bit count of a BIT; declared length n of a
    /// BINARY(n) Bytes value (0 for other binary values).</summary>
    public int Aux => _aux;

    /// <summary>Length of the value: <see cref="RawBytes"/> plus the trailing zero bytes of a BINARY(n) value that the
    /// binlog leaves out (the server strips BINARY's 0x00 padding when it logs a row).</summary>
    public int BinaryLength => Kind == ValueKind.Bytes && _aux > RawLength ? _aux : RawLength;

    private int RawLength => _ref is byte[] ? (int)(uint)_bits : 0;

    /// <summary>Copies the whole value (<see cref="BinaryLength"/> bytes, BINARY padding restored) into
    /// <paramref name="destination"/>; returns the number of bytes written.</summary>
    public int CopyBinaryTo(Span<byte> destination)
    {
        var raw = RawBytes;
        var length = BinaryLength;
        raw.CopyTo(destination);
        destination[raw.Length..length].Clear();
        return length;
    }

    /// <summary>Date/time parts of Date, DateTime and Time values.</summary>
    public MySqlDateTime DateTimeParts => MySqlDateTime.Unpack(_bits, _aux);

    /// <summary>TIMESTAMP seconds since the epoch.</summary>
    public long TimestampSeconds => Math.DivRem(_bits, 1_000_000).Quotient;

    /// <summary>TIMESTAMP microseconds part.</summary>
    public int TimestampMicroseconds => (int)(_bits % 1_000_000);

    /// <summary>The raw stored bytes of String, Bytes, Json, Geometry and Decimal values, as logged (for BINARY(n) without
    /// its trailing zero padding: see <see cref="BinaryLength"/> and <see cref="AsBytes"/>).</summary>
    public ReadOnlySpan<byte> RawBytes => _ref is byte[] b ? b.AsSpan((int)(_bits >> 32), (int)(uint)_bits) : default;

    /// <summary>The labels of an ENUM/SET column, when the table map carried them.</summary>
    public IReadOnlyList<string>? Labels => _ref as string[];

    /// <summary>The label of an ENUM value ("" for index 0), or null when labels are unknown.</summary>
    public string? EnumLabel => _ref is string[] l ? (_bits > 0 && _bits <= l.Length ? l[_bits - 1] : "") : null;

    /// <summary>The labels set in a SET value, or null when labels are unknown.</summary>
    public string[]? SetLabels
    {
        get
        {
            if (_ref is not string[] l) return null;
            var result = new List<string>();
            for (var i = 0; i < l.Length && i < 64; i++)
                if (((ulong)_bits & (1UL << i)) != 0) result.Add(l[i]);
            return result.ToArray();
        }
    }

    /// <summary>Text of a String value decoded in its charset.</summary>
    public string AsString() => Kind switch
    {
        ValueKind.String => Charsets.GetEncoding(_aux).GetString(RawBytes),
        ValueKind.Decimal => DecimalString(),
        ValueKind.Json => JsonText(),
        _ => ToString(),
    };

    /// <summary>A copy of the bytes of a Bytes/Geometry/String value (BINARY(n) padding restored).</summary>
    public byte[] AsBytes()
    {
        if (BinaryLength == RawLength) return RawBytes.ToArray();
        var bytes = new byte[BinaryLength];
        CopyBinaryTo(bytes);
        return bytes;
    }

    /// <summary>The exact digits of a DECIMAL, e.g. <c>-12.345</c>.</summary>
    public string DecimalString() => _ref is string s ? s : BinaryDecimal.ToString(RawBytes, _aux, _scale);

    /// <summary>Writes the digits of a DECIMAL into <paramref name="destination"/> (at least
    /// <see cref="BinaryDecimal.MaxChars"/> long, or the digits' length for old-style DECIMAL); returns their count.</summary>
    public int FormatDecimal(Span<char> destination) => FormatDecimal<char>(destination);

    /// <summary>As <see cref="FormatDecimal(Span{char})"/>, into chars or (ASCII) UTF-8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int FormatDecimal<T>(Span<T> destination) where T : unmanaged, IBinaryInteger<T>
    {
        if (_ref is not string s) return BinaryDecimal.Format(RawBytes, _aux, _scale, destination);
        for (var i = 0; i < s.Length; i++) destination[i] = T.CreateTruncating(s[i]);
        return s.Length;
    }

    /// <summary>True for MariaDB text JSON (stored as text, its collation in <see cref="Aux"/>); false for MySQL binary JSON.</summary>
    public bool IsJsonText => Kind == ValueKind.Json && _aux != 0;

    /// <summary>JSON text of a JSON column value: MySQL binary JSON decoded, or MariaDB text JSON as stored (not
    /// validated: see <see cref="ColumnValueJson"/>). MariaDB's JSON columns are LONGTEXT in the binlog: they are Json
    /// values only when the schema marked the column (<see cref="Events.TableColumn.IsJson"/>), String values otherwise.</summary>
    /// <exception cref="BinlogFormatException">The binary JSON is malformed (the <see cref="MySqlJsonFormatException"/>
    /// is its inner exception), so that every value that fails to materialise fails with the decoder's exception type.</exception>
    public string JsonText()
    {
        if (IsJsonText) return Charsets.GetEncoding(_aux).GetString(RawBytes);
        if (_scale == JsonTextMarker) return System.Text.Encoding.UTF8.GetString(RawBytes);
        try
        {
            return MySqlJsonBinary.ToJson(RawBytes);
        }
        catch (MySqlJsonFormatException e)
        {
            throw new BinlogFormatException($"JSON column value is corrupt: {e.Message}", e);
        }
    }

    /// <summary>A DECIMAL given as digits (old-style DECIMAL columns).</summary>
    internal static ColumnValue FromDecimalString(string digits) => new(ValueKind.Decimal, 0, digits);

    /// <summary>A boxed .NET value: long, ulong, float, double, string, byte[], MySqlDateTime, DateTime (UTC), string[] for SET, or null.</summary>
    public object? ToObject() => Kind switch
    {
        ValueKind.Missing or ValueKind.Null => null,
        ValueKind.Int or ValueKind.Year => _bits,
        ValueKind.UInt or ValueKind.Bit => (ulong)_bits,
        ValueKind.Float => Float,
        ValueKind.Double => Double,
        ValueKind.Decimal => DecimalString(),
        ValueKind.String => AsString(),
        ValueKind.Bytes or ValueKind.Geometry => AsBytes(),
        ValueKind.Json => JsonText(),
        ValueKind.Date or ValueKind.DateTime or ValueKind.Time => DateTimeParts,
        ValueKind.Timestamp => DateTime.UnixEpoch.AddTicks(_bits * 10),
        ValueKind.Enum => (object?)EnumLabel ?? _bits,
        ValueKind.Set => (object?)SetLabels ?? (ulong)_bits,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ValueKind.Missing => "(missing)",
        ValueKind.Null => "NULL",
        ValueKind.Int or ValueKind.Year => _bits.ToString(CultureInfo.InvariantCulture),
        ValueKind.UInt or ValueKind.Bit => ((ulong)_bits).ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => Float.ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Double => Double.ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Decimal => DecimalString(),
        ValueKind.String => AsString(),
        ValueKind.Bytes or ValueKind.Geometry => Convert.ToBase64String(AsBytes()),
        ValueKind.Json => JsonText(),
        ValueKind.Date => DateTimeParts.ToDateString(),
        ValueKind.DateTime => DateTimeParts.ToDateTimeString(_scale),
        ValueKind.Time => DateTimeParts.ToTimeString(_scale),
        ValueKind.Timestamp => TimestampString(),
        ValueKind.Enum => EnumLabel ?? _bits.ToString(CultureInfo.InvariantCulture),
        ValueKind.Set => SetLabels is { } s ? string.Join(',', s) : ((ulong)_bits).ToString(CultureInfo.InvariantCulture),
        _ => "?",
    };

    /// <summary>TIMESTAMP as UTC <c>YYYY-MM-DDTHH:MM:SS[.ffffff]Z</c>; the zero timestamp as <c>0000-00-00 00:00:00</c>.</summary>
    public string TimestampString()
    {
        Span<char> buf = stackalloc char[28];
        return new string(buf[..FormatTimestamp(buf)]);
    }

    /// <summary>Writes <see cref="TimestampString"/> into <paramref name="dest"/> (≥ 28 chars); returns chars written.</summary>
    public int FormatTimestamp(Span<char> dest) => FormatTimestamp<char>(dest);

    /// <summary>As <see cref="FormatTimestamp(Span{char})"/>, into chars or (ASCII) UTF-8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int FormatTimestamp<T>(Span<T> dest) where T : unmanaged, IBinaryInteger<T>
    {
        if (_bits == 0)
        {
            var zero = new MySqlDateTime(0, 0, 0, 0, 0, 0, 0);
            return zero.FormatDateTime(dest, _scale, ' ');
        }
        var dt = DateTime.UnixEpoch.AddTicks(_bits * 10);
        var parts = new MySqlDateTime(dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second, TimestampMicroseconds);
        var n = parts.FormatDateTime(dest, _scale, 'T');
        dest[n] = T.CreateTruncating('Z');
        return n + 1;
    }
}
