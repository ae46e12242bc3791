using System.Globalization;

namespace PluginHost.Binlog.Json;

/// <summary>
/// Text forms of the scalars MySQL keeps in binary JSON, written as UTF-8 exactly as MySQL prints them:
/// doubles (<c>my_gcvt</c> with the widest field width, plus <c>.0</c> for integral values), binary DECIMAL
/// (<c>decimal2string</c>), and packed DATE/TIME/DATETIME (<c>my_TIME_to_str</c> with 6 fractional digits).
/// </summary>
internal static class MySqlJsonScalars
{
    /// <summary>Room needed by <see cref="FormatDouble"/>.</summary>
    internal const int MaxDoubleTextLength = 40;

    /// <summary>Room needed by <see cref="FormatDecimal"/>: sign, 65 digits, point, a leading zero.</summary>
    internal const int MaxDecimalTextLength = 72;

    /// <summary>Room needed by the packed temporal formatters (years and hours are not range-checked).</summary>
    internal const int MaxTemporalTextLength = 48;

    /// <summary>MySQL's MY_GCVT_MAX_FIELD_WIDTH: DBL_DIG + 4 + max(5, MAX_DECPT_FOR_F_FORMAT).</summary>
    private const int GcvtWidth = 15 + 4 + 15;

    /// <summary>MySQL's MAX_DECPT_FOR_F_FORMAT (DBL_DIG).</summary>
    private const int MaxDecptForFFormat = 15;

    private static ReadOnlySpan<byte> DigitBytes => [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    private static ReadOnlySpan<uint> Powers10 => [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

    // ---------------------------------------------------------------- double

    /// <summary>
    /// Formats a finite double like MySQL's JSON output: the shortest digits that round-trip, in fixed notation
    /// when MySQL's <c>my_gcvt</c> would choose it (<c>0.0001</c>, <c>123.5</c>, <c>100000000000000</c>) and
    /// <c>1.5e-7</c>/<c>1e15</c> notation otherwise, with <c>.0</c> appended when neither a point nor an exponent appears.
    /// </summary>
    internal static int FormatDouble(double value, Span<byte> dest)
    {
        // Shortest round-trip digits from .NET ("R"), turned into dtoa's (digits, decpt) form: value = 0.DIGITS × 10^decpt.
        Span<char> text = stackalloc char[40];
        value.TryFormat(text, out var textLength, "R", CultureInfo.InvariantCulture);
        text = text[..textLength];

        var negative = text[0] == '-';
        if (negative) text = text[1..];
        var exponent = 0;
        var e = text.IndexOfAny('E', 'e');
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        Span<byte> digits = stackalloc byte[40];
        var len = 0;
        var intDigits = -1;
        foreach (var c in text)
        {
            if (c == '.') intDigits = len;
            else digits[len++] = (byte)c;
        }
        if (intDigits < 0) intDigits = len;

        var lead = 0;
        while (lead < len && digits[lead] == '0') lead++;
        int decpt;
        if (lead == len)
        {
            digits[0] = (byte)'0';
            len = 1;
            decpt = 1;
        }
        else
        {
            digits[..len][lead..].CopyTo(digits);
            len -= lead;
            decpt = intDigits - lead + exponent;
            while (len > 1 && digits[len - 1] == '0') len--;
        }

        var width = GcvtWidth - (value < 0 ? 1 : 0);
        var haveSpace = (decpt <= 0 ? len - decpt + 2 : decpt < len ? len + 1 : decpt) <= width;
        var expLen = 1 + (decpt >= 101 || decpt <= -99 ? 1 : 0) + (decpt >= 11 || decpt <= -9 ? 1 : 0);
        var forceE = decpt <= 0 && width <= 2 - decpt && width >= 3 + expLen;
        var fixedFormat =
            (haveSpace || (decpt <= width && (decpt >= -1 || (decpt == -2 && (len > 1 || !forceE))) && !forceE)) &&
            (!haveSpace || (decpt >= -MaxDecptForFFormat + 1 && (decpt <= MaxDecptForFFormat || len > decpt)));

        var p = 0;
        if (negative) dest[p++] = (byte)'-';
        if (fixedFormat)
        {
            // With at most 17 significant digits and a 34-character field, 'f' is only chosen when everything fits.
            if (decpt <= 0)
            {
                dest[p++] = (byte)'0';
                dest[p++] = (byte)'.';
                for (var z = decpt; z < 0; z++) dest[p++] = (byte)'0';
                digits[..len].CopyTo(dest[p..]);
                p += len;
            }
            else
            {
                int i;
                for (i = 1; i <= len; i++)
                {
                    dest[p++] = digits[i - 1];
                    if (i == decpt && i < len) dest[p++] = (byte)'.';
                }
                while (i++ <= decpt) dest[p++] = (byte)'0';
                if (decpt >= len)
                {
                    // No point and no exponent: MySQL appends ".0" to keep the value a double.
                    dest[p++] = (byte)'.';
                    dest[p++] = (byte)'0';
                }
            }
        }
        else
        {
            dest[p++] = digits[0];
            if (len > 1)
            {
                dest[p++] = (byte)'.';
                digits[1..len].CopyTo(dest[p..]);
                p += len - 1;
            }
            dest[p++] = (byte)'e';
            var exp = decpt - 1;
            if (exp < 0)
            {
                dest[p++] = (byte)'-';
                exp = -exp;
            }
            exp.TryFormat(dest[p..], out var n, default, CultureInfo.InvariantCulture);
            p += n;
        }
        return p;
    }

    // ---------------------------------------------------------------- DECIMAL

    /// <summary>
    /// Formats a JSON opaque DECIMAL: a precision byte, a scale byte, then MySQL's binary decimal
    /// (big-endian groups of 9 digits in 4 bytes, leading/trailing partial groups in 1–4 bytes,
    /// sign in the inverted top bit, negative values with every byte inverted).
    /// </summary>
    internal static int FormatDecimal(ReadOnlySpan<byte> data, Span<byte> dest, int pos)
    {
        if (data.Length < 2)
            throw new MySqlJsonFormatException("DECIMAL value lacks its precision and scale bytes", pos);
        int precision = data[0], scale = data[1];
        if (precision > 65 || scale > 30 || scale > precision)
            throw new MySqlJsonFormatException($"DECIMAL({precision},{scale}) is not a valid precision/scale", pos);

        var intg = precision - scale;
        int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
        var size = intg0 * 4 + DigitBytes[intg0x] + frac0 * 4 + DigitBytes[frac0x];
        var bin = data[2..];
        if (bin.Length != size)
            throw new MySqlJsonFormatException($"DECIMAL({precision},{scale}) needs {size} bytes, has {bin.Length}", pos);
        if (size == 0)
        {
            dest[0] = (byte)'0';
            return 1;
        }

        var negative = (bin[0] & 0x80) == 0;
        var mask = negative ? (byte)0xff : (byte)0;
        Span<byte> digits = stackalloc byte[70];
        var nd = 0;
        var at = 0;

        uint ReadGroup(ReadOnlySpan<byte> b, int count, ref int at)
        {
            uint v = 0;
            for (var j = 0; j < count; j++)
            {
                var x = b[at + j];
                if (at + j == 0) x ^= 0x80;
                v = (v << 8) | (byte)(x ^ mask);
            }
            at += count;
            return v;
        }

        void Append(Span<byte> digits, ref int nd, uint v, int count)
        {
            for (var j = count - 1; j >= 0; j--)
            {
                digits[nd + j] = (byte)('0' + v % 10);
                v /= 10;
            }
            nd += count;
        }

        if (intg0x > 0)
        {
            var v = ReadGroup(bin, DigitBytes[intg0x], ref at);
            if (v >= Powers10[intg0x]) throw BadDigits(pos);
            Append(digits, ref nd, v, intg0x);
        }
        for (var g = 0; g < intg0 + frac0; g++)
        {
            var v = ReadGroup(bin, 4, ref at);
            if (v >= 1_000_000_000) throw BadDigits(pos);
            Append(digits, ref nd, v, 9);
        }
        if (frac0x > 0)
        {
            var v = ReadGroup(bin, DigitBytes[frac0x], ref at);
            if (v >= Powers10[frac0x]) throw BadDigits(pos);
            Append(digits, ref nd, v, frac0x);
        }

        var intPart = digits[..intg];
        var fracPart = digits[intg..nd];
        var firstNonZero = intPart.IndexOfAnyExcept((byte)'0');
        var isZero = firstNonZero < 0 && fracPart.IndexOfAnyExcept((byte)'0') < 0;

        var p = 0;
        if (negative && !isZero) dest[p++] = (byte)'-';
        if (firstNonZero < 0)
        {
            dest[p++] = (byte)'0';
        }
        else
        {
            intPart[firstNonZero..].CopyTo(dest[p..]);
            p += intPart.Length - firstNonZero;
        }
        if (scale > 0)
        {
            dest[p++] = (byte)'.';
            fracPart.CopyTo(dest[p..]);
            p += fracPart.Length;
        }
        return p;
    }

    private static MySqlJsonFormatException BadDigits(int pos) =>
        new("DECIMAL digit group out of range", pos);

    // ---------------------------------------------------------------- packed temporals

    /// <summary>Unpacks MySQL's packed DATETIME longlong: ((((year*13+month)&lt;&lt;5|day)&lt;&lt;17 | hour&lt;&lt;12|minute&lt;&lt;6|second)&lt;&lt;24) + microseconds, negated when negative.</summary>
    private static void UnpackDateTime(long packed, out bool negative, out long year, out int month, out int day,
        out long hour, out int minute, out int second, out int micro)
    {
        negative = packed < 0;
        var tmp = negative ? unchecked((ulong)-packed) : (ulong)packed;
        micro = (int)(tmp % (1UL << 24));
        var ymdhms = tmp >> 24;
        var ymd = ymdhms >> 17;
        var ym = ymd >> 5;
        var hms = ymdhms % (1UL << 17);
        day = (int)(ymd % (1 << 5));
        month = (int)(ym % 13);
        year = (long)(ym / 13);
        second = (int)(hms % (1 << 6));
        minute = (int)((hms >> 6) % (1 << 6));
        hour = (long)(hms >> 12);
    }

    /// <summary><c>YYYY-MM-DD</c> from a packed DATE (the DATETIME packing with a zero time).</summary>
    internal static int FormatPackedDate(long packed, Span<byte> dest)
    {
        UnpackDateTime(packed, out _, out var year, out var month, out var day, out _, out _, out _, out _);
        var p = 0;
        p += Pad(dest[p..], year, 4);
        dest[p++] = (byte)'-';
        p += Pad(dest[p..], month, 2);
        dest[p++] = (byte)'-';
        p += Pad(dest[p..], day, 2);
        return p;
    }

    /// <summary><c>YYYY-MM-DD HH:MM:SS.ffffff</c> from a packed DATETIME/TIMESTAMP.</summary>
    internal static int FormatPackedDateTime(long packed, Span<byte> dest)
    {
        UnpackDateTime(packed, out _, out _, out _, out _, out var hour, out var minute, out var second, out var micro);
        var p = FormatPackedDate(packed, dest);
        dest[p++] = (byte)' ';
        p += Pad(dest[p..], hour, 2);
        dest[p++] = (byte)':';
        p += Pad(dest[p..], minute, 2);
        dest[p++] = (byte)':';
        p += Pad(dest[p..], second, 2);
        dest[p++] = (byte)'.';
        p += Pad(dest[p..], micro, 6);
        return p;
    }

    /// <summary>
    /// <c>[-]HH:MM:SS.ffffff</c> (hours may exceed 24) from a packed TIME:
    /// ((hour&lt;&lt;12 | minute&lt;&lt;6 | second)&lt;&lt;24) + microseconds, negated when negative.
    /// </summary>
    internal static int FormatPackedTime(long packed, Span<byte> dest)
    {
        var negative = packed < 0;
        var tmp = negative ? unchecked((ulong)-packed) : (ulong)packed;
        var micro = (int)(tmp % (1UL << 24));
        var hms = tmp >> 24;
        var hour = (int)((hms >> 12) % (1 << 10));
        var minute = (int)((hms >> 6) % (1 << 6));
        var second = (int)(hms % (1 << 6));
        var p = 0;
        if (negative) dest[p++] = (byte)'-';
        p += Pad(dest[p..], hour, 2);
        dest[p++] = (byte)':';
        p += Pad(dest[p..], minute, 2);
        dest[p++] = (byte)':';
        p += Pad(dest[p..], second, 2);
        dest[p++] = (byte)'.';
        p += Pad(dest[p..], micro, 6);
        return p;
    }

    /// <summary>Zero-padded to at least <paramref name="minDigits"/> digits (printf <c>%0Nu</c>).</summary>
    private static int Pad(Span<byte> dest, long value, int minDigits)
    {
        Span<char> fmt = ['D', (char)('0' + minDigits)];
        value.TryFormat(dest, out var n, fmt, CultureInfo.InvariantCulture);
        return n;
    }
}
