using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace PluginHost.Binlog.Values;

/// <summary>MySQL's packed binary DECIMAL (NEWDECIMAL) format: groups of nine digits in four bytes, big-endian, sign in the top bit.</summary>
internal static class BinaryDecimal
{
    private static readonly int[] DigitsToBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    /// <summary>Stored size in bytes of a DECIMAL(<paramref name="precision"/>, <paramref name="scale"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Size(int precision, int scale)
    {
        var intg = precision - scale;
        return intg / 9 * 4 + DigitsToBytes[intg % 9] + scale / 9 * 4 + DigitsToBytes[scale % 9];
    }

    /// <summary>Most characters a formatted value takes: 65 digits, a sign, a point and a leading zero.</summary>
    public const int MaxChars = 68;

    /// <summary>Formats the exact value, e.g. <c>-12.345</c>, <c>0.500</c>, <c>100</c>.</summary>
    public static string ToString(ReadOnlySpan<byte> data, int precision, int scale)
    {
        Span<char> chars = precision + 3 <= MaxChars ? stackalloc char[MaxChars] : new char[precision + 3];
        return new string(chars[..Format(data, precision, scale, chars)]);
    }

    /// <summary>Formats the exact value into <paramref name="chars"/> (at least precision + 3 long); returns the length.</summary>
    public static int Format(ReadOnlySpan<byte> data, int precision, int scale, Span<char> chars) => Format<char>(data, precision, scale, chars);

    /// <summary>As <see cref="Format(ReadOnlySpan{byte}, int, int, Span{char})"/>, into chars or (ASCII) UTF-8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Format<T>(ReadOnlySpan<byte> data, int precision, int scale, Span<T> chars) where T : unmanaged, IBinaryInteger<T>
    {
        var size = Size(precision, scale);
        if (data.Length < size || precision <= 0 || scale > precision)
            throw TooShort(precision, scale, size, data.Length);
        if (chars.Length < precision + 3) throw NoRoom(precision, scale);
        Span<byte> buf = stackalloc byte[size];
        data[..size].CopyTo(buf);
        var negative = (buf[0] & 0x80) == 0;
        buf[0] ^= 0x80;
        if (negative)
            for (var i = 0; i < size; i++) buf[i] ^= 0xFF;

        var intg = precision - scale;
        var intg0 = intg / 9;
        var intg0x = intg % 9;
        var frac0 = scale / 9;
        var frac0x = scale % 9;

        var n = 0;
        if (negative) chars[n++] = T.CreateTruncating('-');
        var started = false;
        var pos = 0;
        // An integer group: its digits once the first nonzero digit of the value is out, before that its significant ones.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Emit(Span<T> c, ref int n, uint v, int digits, ref bool started)
        {
            Check(v, digits);
            if (!started)
            {
                if (v == 0) return;
                started = true;
                digits = 1;
                while (digits < 9 && v >= Pow10[digits]) digits++;
            }
            Fill(c, n, v, digits);
            n += digits;
        }
        if (intg0x > 0)
        {
            var len = DigitsToBytes[intg0x];
            Emit(chars, ref n, ReadBigEndian(buf.Slice(pos, len)), intg0x, ref started);
            pos += len;
        }
        for (var i = 0; i < intg0; i++, pos += 4)
            Emit(chars, ref n, BinaryPrimitives.ReadUInt32BigEndian(buf[pos..]), 9, ref started);
        if (!started) chars[n++] = T.CreateTruncating('0');
        if (scale > 0)
        {
            chars[n++] = T.CreateTruncating('.');
            for (var i = 0; i < frac0; i++, pos += 4)
            {
                var v = BinaryPrimitives.ReadUInt32BigEndian(buf[pos..]);
                Check(v, 9);
                Fill(chars, n, v, 9);
                n += 9;
            }
            if (frac0x > 0)
            {
                var len = DigitsToBytes[frac0x];
                var v = ReadBigEndian(buf.Slice(pos, len));
                Check(v, frac0x);
                Fill(chars, n, v, frac0x);
                n += frac0x;
            }
        }
        return n;

        // The last `digits` digits of v, zero-padded, at c[at..].
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Fill(Span<T> c, int at, uint v, int digits)
        {
            for (var i = at + digits - 1; i >= at; i--)
            {
                c[i] = T.CreateTruncating('0' + (int)(v % 10));
                v /= 10;
            }
        }

        // A group of k digits holds less than 10^k (as MySQL's bin2decimal checks): more means corrupt bytes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Check(uint group, int digits)
        {
            if (digits < 9 ? group >= Pow10[digits] : group > 999_999_999) throw Corrupt(group, digits);
        }
    }

    private static readonly uint[] Pow10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinlogFormatException TooShort(int precision, int scale, int size, int length) =>
        new($"DECIMAL({precision},{scale}) needs {size} bytes, got {length}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException NoRoom(int precision, int scale) =>
        new($"DECIMAL({precision},{scale}) needs {precision + 3} characters", "chars");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinlogFormatException Corrupt(uint group, int digits) =>
        new($"DECIMAL digit group {group} does not fit {digits} digits: the value is corrupt");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadBigEndian(ReadOnlySpan<byte> b)
    {
        uint v = 0;
        foreach (var x in b) v = (v << 8) | x;
        return v;
    }
}
