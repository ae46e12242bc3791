using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Decoding;

/// <summary>Decodes the packed row images of a rows event into <see cref="ColumnValue"/> arrays.</summary>
internal static class RowImageDecoder
{
    /// <summary>
    /// Decodes one row image starting at <paramref name="pos"/> in <paramref name="buffer"/> (which must stay alive:
    /// text and binary values point into it). Returns the position after the image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Decode(byte[] buffer, int pos, int end, TableColumn[] columns,
        ReadOnlySpan<byte> present, int presentCount, Span<ColumnValue> row)
    {
        var nullBytes = (presentCount + 7) >> 3;
        if (pos + nullBytes > end) throw Truncated(pos, nullBytes, end);
        var nullPos = pos;
        pos += nullBytes;
        var nullIndex = 0;
        for (var i = 0; i < columns.Length; i++)
        {
            if ((present[i >> 3] & (1 << (i & 7))) == 0)
                continue; // Missing (default)
            var isNull = (buffer[nullPos + (nullIndex >> 3)] & (1 << (nullIndex & 7))) != 0;
            nullIndex++;
            if (isNull)
            {
                row[i] = ColumnValue.Null;
                continue;
            }
            pos = DecodeValue(buffer, pos, end, columns[i], out row[i]);
        }
        return pos;
    }

    // Errors are built out of line: the hot methods stay small (no string-building locals in their frames).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinlogFormatException Truncated(int pos, int need, int end) =>
        new($"row image truncated: needed {need} bytes at offset {pos}, {end - pos} left");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinlogFormatException InvalidDecimal(TableColumn c, int precision, int scale) =>
        new($"invalid DECIMAL({precision},{scale}) metadata for column {c}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinlogFormatException InvalidFsp(string type, int fsp) => new($"invalid {type} fsp {fsp}");

    // MySQL and MariaDB refuse NaN and infinities in FLOAT/DOUBLE columns, and JSON cannot carry them.
    private static BinlogFormatException NotFinite(TableColumn c, double value) =>
        new($"column {c} holds {value}, which no MySQL/MariaDB FLOAT or DOUBLE column can store");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Need(int pos, int n, int end)
    {
        if ((uint)n > (uint)(end - pos)) throw Truncated(pos, n, end);
    }

    /// <summary>The common types here, the others in <see cref="DecodeOther"/>: a small method with a small frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeValue(byte[] b, int pos, int end, TableColumn c, out ColumnValue v)
    {
        var meta = c.Metadata;
        switch (c.Type)
        {
            case ColumnType.Long:
                Need(pos, 4, end);
                var l = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
                v = c.IsUnsigned ? ColumnValue.FromUInt(l) : ColumnValue.FromInt((int)l);
                return pos + 4;
            case ColumnType.LongLong:
                Need(pos, 8, end);
                var ll = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos));
                v = c.IsUnsigned ? ColumnValue.FromUInt(ll) : ColumnValue.FromInt((long)ll);
                return pos + 8;
            case ColumnType.NewDecimal:
            {
                int precision = meta >> 8, scale = meta & 0xFF;
                if (precision == 0 || scale > precision || precision > 65) throw InvalidDecimal(c, precision, scale);
                var size = BinaryDecimal.Size(precision, scale);
                Need(pos, size, end);
                v = ColumnValue.FromSlice(ValueKind.Decimal, b, pos, size, (ushort)precision, (byte)scale);
                return pos + size;
            }
            case ColumnType.VarChar:
            case ColumnType.VarString:
            {
                int len;
                if (meta < 256)
                {
                    Need(pos, 1, end);
                    len = b[pos++];
                }
                else
                {
                    Need(pos, 2, end);
                    len = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(pos));
                    pos += 2;
                }
                Need(pos, len, end);
                v = Text(c, b, pos, len);
                return pos + len;
            }
            case ColumnType.DateTime2:
            {
                if (meta > 6) throw InvalidFsp("DATETIME", meta);
                var fracBytes = (meta + 1) / 2;
                Need(pos, 5 + fracBytes, end);
                var intPart = (long)ReadBigEndian(b, pos, 5) - 0x8000000000L;
                var neg = intPart < 0;
                if (neg) intPart = -intPart;
                var ymd = intPart >> 17;
                var ym = ymd >> 5;
                var hms = intPart & 0x1FFFF;
                var micro = ReadFraction(b, pos + 5, meta);
                v = ColumnValue.FromDateTime(new MySqlDateTime((int)(ym / 13), (int)(ym % 13), (int)(ymd & 31),
                    (int)(hms >> 12), (int)((hms >> 6) & 63), (int)(hms & 63), micro, neg), meta);
                return pos + 5 + fracBytes;
            }
            case ColumnType.Timestamp2:
            {
                if (meta > 6) throw InvalidFsp("TIMESTAMP", meta);
                var fracBytes = (meta + 1) / 2;
                Need(pos, 4 + fracBytes, end);
                long secs = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
                var micro = ReadFraction(b, pos + 4, meta);
                v = ColumnValue.FromTimestamp(secs, micro, meta);
                return pos + 4 + fracBytes;
            }
            default:
                return DecodeOther(b, pos, end, c, out v);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int DecodeOther(byte[] b, int pos, int end, TableColumn c, out ColumnValue v)
    {
        var meta = c.Metadata;
        switch (c.Type)
        {
            case ColumnType.Tiny:
                Need(pos, 1, end);
                v = c.IsUnsigned ? ColumnValue.FromUInt(b[pos]) : ColumnValue.FromInt((sbyte)b[pos]);
                return pos + 1;
            case ColumnType.Short:
                Need(pos, 2, end);
                var s = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(pos));
                v = c.IsUnsigned ? ColumnValue.FromUInt(s) : ColumnValue.FromInt((short)s);
                return pos + 2;
            case ColumnType.Int24:
                Need(pos, 3, end);
                var m = b[pos] | b[pos + 1] << 8 | b[pos + 2] << 16;
                v = c.IsUnsigned ? ColumnValue.FromUInt((uint)m) : ColumnValue.FromInt((m << 8) >> 8);
                return pos + 3;
            case ColumnType.Float:
            {
                Need(pos, 4, end);
                var f = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(pos));
                if (!float.IsFinite(f)) throw NotFinite(c, f);
                v = ColumnValue.FromFloat(f);
                return pos + 4;
            }
            case ColumnType.Double:
            {
                Need(pos, 8, end);
                var d = BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(pos));
                if (!double.IsFinite(d)) throw NotFinite(c, d);
                v = ColumnValue.FromDouble(d);
                return pos + 8;
            }
            case ColumnType.Year:
                Need(pos, 1, end);
                v = ColumnValue.FromYear(b[pos] == 0 ? 0 : 1900 + b[pos]);
                return pos + 1;
            case ColumnType.Date:
            case ColumnType.NewDate:
            {
                Need(pos, 3, end);
                var d = b[pos] | b[pos + 1] << 8 | b[pos + 2] << 16;
                v = ColumnValue.FromDate(new MySqlDateTime(d >> 9, (d >> 5) & 15, d & 31, 0, 0, 0, 0));
                return pos + 3;
            }
            case ColumnType.Time:
            {
                if (meta > 0) return DecodeMariaDbHiresTime(b, pos, end, meta, out v);
                Need(pos, 3, end);
                var t = (b[pos] | b[pos + 1] << 8 | b[pos + 2] << 16) << 8 >> 8;
                var neg = t < 0;
                if (neg) t = -t;
                v = ColumnValue.FromTime(new MySqlDateTime(0, 0, 0, t / 10000, t / 100 % 100, t % 100, 0, neg), 0);
                return pos + 3;
            }
            case ColumnType.DateTime:
            {
                if (meta > 0) return DecodeMariaDbHiresDateTime(b, pos, end, meta, out v);
                Need(pos, 8, end);
                var x = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos));
                var date = x / 1000000;
                var time = x % 1000000;
                v = ColumnValue.FromDateTime(new MySqlDateTime((int)(date / 10000), (int)(date / 100 % 100), (int)(date % 100),
                    (int)(time / 10000), (int)(time / 100 % 100), (int)(time % 100), 0), 0);
                return pos + 8;
            }
            case ColumnType.Timestamp:
            {
                if (meta > 0) return DecodeMariaDbHiresTimestamp(b, pos, end, meta, out v);
                Need(pos, 4, end);
                v = ColumnValue.FromTimestamp(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos)), 0, 0);
                return pos + 4;
            }
            case ColumnType.Time2:
                return DecodeTime2(b, pos, end, meta, out v);
            case ColumnType.String:
            {
                var lenBytes = meta < 256 ? 1 : 2;
                Need(pos, lenBytes, end);
                var len = lenBytes == 1 ? b[pos] : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(pos));
                pos += lenBytes;
                Need(pos, len, end);
                // BINARY(n): the server strips the trailing 0x00 padding when logging; the value remembers n to restore it.
                v = c.Collation == Charsets.Binary
                    ? ColumnValue.FromSlice(ValueKind.Bytes, b, pos, len, (ushort)(meta <= 255 ? meta : 0))
                    : Text(c, b, pos, len);
                return pos + len;
            }
            case ColumnType.Enum:
            {
                var size = meta & 0xFF;
                if (size is not (1 or 2)) throw new BinlogFormatException($"invalid ENUM pack length {size} for column {c}");
                Need(pos, size, end);
                v = ColumnValue.FromEnum(size == 1 ? b[pos] : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(pos)), c.Labels);
                return pos + size;
            }
            case ColumnType.Set:
            {
                var size = meta & 0xFF;
                if (size is < 1 or > 8) throw new BinlogFormatException($"invalid SET pack length {size} for column {c}");
                Need(pos, size, end);
                ulong mask = 0;
                for (var i = 0; i < size; i++) mask |= (ulong)b[pos + i] << (8 * i);
                v = ColumnValue.FromSet(mask, c.Labels);
                return pos + size;
            }
            case ColumnType.Bit:
            {
                var bits = (meta >> 8) * 8 + (meta & 0xFF);
                var size = (bits + 7) / 8;
                if (size > 8) throw new BinlogFormatException($"invalid BIT({bits}) metadata for column {c}");
                Need(pos, size, end);
                v = ColumnValue.FromBit(ReadBigEndian(b, pos, size), bits);
                return pos + size;
            }
            case ColumnType.Blob:
            case ColumnType.TinyBlob:
            case ColumnType.MediumBlob:
            case ColumnType.LongBlob:
            case ColumnType.Json:
            case ColumnType.Geometry:
            case ColumnType.Vector:
            {
                var lenBytes = meta;
                if (lenBytes is < 1 or > 4) throw new BinlogFormatException($"invalid length-prefix size {lenBytes} for column {c}");
                Need(pos, lenBytes, end);
                var len = (long)ReadLittleEndian(b, pos, lenBytes);
                pos += lenBytes;
                if (len > end - pos) throw Truncated(pos, (int)Math.Min(len, int.MaxValue), end);
                var n = (int)len;
                v = c.Type switch
                {
                    ColumnType.Json => ColumnValue.FromSlice(ValueKind.Json, b, pos, n),
                    ColumnType.Geometry => ColumnValue.FromSlice(ValueKind.Geometry, b, pos, n),
                    _ => c.Collation != 0 && c.Collation != Charsets.Binary
                        // MariaDB JSON (known from the schema): text JSON, its collation kept in Aux.
                        ? ColumnValue.FromSlice(c.IsJson ? ValueKind.Json : ValueKind.String, b, pos, n, (ushort)c.Collation)
                        : ColumnValue.FromSlice(ValueKind.Bytes, b, pos, n),
                };
                return pos + n;
            }
            case ColumnType.Null:
                v = ColumnValue.Null;
                return pos;
            default:
                throw new BinlogFormatException($"unsupported column type {(int)c.Type} ({c.Type}) in column {c}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ColumnValue Text(TableColumn c, byte[] b, int pos, int len)
    {
        if (c.Collation == Charsets.Binary) return ColumnValue.FromSlice(ValueKind.Bytes, b, pos, len);
        return ColumnValue.FromSlice(ValueKind.String, b, pos, len, (ushort)(c.Collation == 0 ? Charsets.DefaultUtf8 : c.Collation));
    }

    private static int DecodeTime2(byte[] b, int pos, int end, int fsp, out ColumnValue v)
    {
        var fracBytes = (fsp + 1) / 2;
        Need(pos, 3 + fracBytes, end);
        long packed;
        long intPart = (long)ReadBigEndian(b, pos, 3) - 0x800000L;
        switch (fsp)
        {
            case 0:
                packed = intPart << 24;
                break;
            case 1:
            case 2:
            {
                int frac = b[pos + 3];
                if (intPart < 0 && frac != 0) { intPart++; frac -= 0x100; }
                packed = (intPart << 24) + frac * 10000L;
                break;
            }
            case 3:
            case 4:
            {
                int frac = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(pos + 3));
                if (intPart < 0 && frac != 0) { intPart++; frac -= 0x10000; }
                packed = (intPart << 24) + frac * 100L;
                break;
            }
            case 5:
            case 6:
                packed = (long)ReadBigEndian(b, pos, 6) - 0x800000000000L;
                break;
            default:
                throw new BinlogFormatException($"invalid TIME fsp {fsp}");
        }
        var neg = packed < 0;
        if (neg) packed = -packed;
        var hms = packed >> 24;
        var micro = (int)(packed % (1L << 24));
        v = ColumnValue.FromTime(new MySqlDateTime(0, 0, 0, (int)((hms >> 12) % (1 << 10)), (int)((hms >> 6) % 64), (int)(hms % 64), micro, neg), fsp);
        return pos + 3 + fracBytes;
    }

    // MariaDB "hires" temporal formats (mysql56_temporal_format=OFF, columns with fractional seconds), from MariaDB's
    // Field_*_hires: a big-endian integer of the value in units of 10^-fsp seconds. TIME adds a zero point so that it
    // sorts unsigned; DATETIME packs ((((year*13+month)*32+day)*24+hour)*60+minute)*60+second; TIMESTAMP is
    // 4 bytes of seconds then the fraction.
    private static readonly int[] HiresTimeBytes = [3, 4, 4, 5, 5, 5, 6];
    private static readonly int[] HiresDateTimeBytes = [5, 6, 6, 7, 7, 7, 8];
    private static readonly int[] FractionBytes = [0, 1, 1, 2, 2, 3, 3];
    private static readonly long[] Pow10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
    private const long TimeMaxSeconds = 838 * 3600 + 59 * 60 + 59;

    private static int DecodeMariaDbHiresTime(byte[] b, int pos, int end, int fsp, out ColumnValue v)
    {
        if (fsp > 6) throw new BinlogFormatException($"invalid TIME fsp {fsp}");
        var size = HiresTimeBytes[fsp];
        Need(pos, size, end);
        var scaled = (long)ReadBigEndian(b, pos, size) - (TimeMaxSeconds + 1) * Pow10[fsp];
        var neg = scaled < 0;
        if (neg) scaled = -scaled;
        var micro = scaled % Pow10[fsp] * Pow10[6 - fsp];
        var secs = scaled / Pow10[fsp];
        v = ColumnValue.FromTime(new MySqlDateTime(0, 0, 0, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), (int)micro, neg), fsp);
        return pos + size;
    }

    private static int DecodeMariaDbHiresDateTime(byte[] b, int pos, int end, int fsp, out ColumnValue v)
    {
        if (fsp > 6) throw new BinlogFormatException($"invalid DATETIME fsp {fsp}");
        var size = HiresDateTimeBytes[fsp];
        Need(pos, size, end);
        var x = ReadBigEndian(b, pos, size) * (ulong)Pow10[6 - fsp];
        var micro = (int)(x % 1000000); x /= 1000000;
        var second = (int)(x % 60); x /= 60;
        var minute = (int)(x % 60); x /= 60;
        var hour = (int)(x % 24); x /= 24;
        var day = (int)(x % 32); x /= 32;
        var month = (int)(x % 13); x /= 13;
        v = ColumnValue.FromDateTime(new MySqlDateTime((int)Math.Min(x, 9999), month, day, hour, minute, second, micro), fsp);
        return pos + size;
    }

    private static int DecodeMariaDbHiresTimestamp(byte[] b, int pos, int end, int fsp, out ColumnValue v)
    {
        if (fsp > 6) throw new BinlogFormatException($"invalid TIMESTAMP fsp {fsp}");
        var size = 4 + FractionBytes[fsp];
        Need(pos, size, end);
        long secs = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
        var frac = (long)ReadBigEndian(b, pos + 4, size - 4);
        v = ColumnValue.FromTimestamp(secs, (int)(frac * Pow10[6 - fsp]), fsp);
        return pos + size;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadFraction(byte[] b, int pos, int fsp) => fsp switch
    {
        0 => 0,
        1 or 2 => b[pos] * 10000,
        3 or 4 => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(pos)) * 100,
        _ => b[pos] << 16 | b[pos + 1] << 8 | b[pos + 2],
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadBigEndian(byte[] b, int pos, int n)
    {
        ulong v = 0;
        for (var i = 0; i < n; i++) v = (v << 8) | b[pos + i];
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLittleEndian(byte[] b, int pos, int n)
    {
        ulong v = 0;
        for (var i = n - 1; i >= 0; i--) v = (v << 8) | b[pos + i];
        return v;
    }
}
