using System.Numerics;
using System.Runtime.CompilerServices;

namespace PluginHost.Binlog.Values;

/// <summary>
/// A MySQL DATE, DATETIME or TIME value as stored, including values .NET cannot represent
/// (zero dates, zero months or days, times beyond 24 h and negative times).
/// </summary>
public readonly record struct MySqlDateTime(
    int Year, int Month, int Day, int Hour, int Minute, int Second, int Microsecond, bool IsNegative = false)
{
    /// <summary>True when every date part is zero (<c>0000-00-00</c>).</summary>
    public bool IsZeroDate => Year == 0 && Month == 0 && Day == 0;

    internal long Pack() =>
        (long)Microsecond | ((long)Second << 20) | ((long)Minute << 26) | ((long)Hour << 32) |
        ((long)Day << 42) | ((long)Month << 47) | (IsNegative ? 1L << 51 : 0);

    internal static MySqlDateTime Unpack(long bits, int year) => new(
        year, (int)(bits >> 47) & 0xF, (int)(bits >> 42) & 0x1F, (int)(bits >> 32) & 0x3FF,
        (int)(bits >> 26) & 0x3F, (int)(bits >> 20) & 0x3F, (int)(bits & 0xFFFFF), (bits & (1L << 51)) != 0);

    /// <summary>Formats as <c>YYYY-MM-DD</c>.</summary>
    public string ToDateString()
    {
        Span<char> buf = stackalloc char[10];
        WriteDate(buf);
        return new string(buf);
    }

    /// <summary>Formats as <c>YYYY-MM-DD HH:MM:SS[.ffffff]</c> with <paramref name="fractionDigits"/> digits.</summary>
    public string ToDateTimeString(int fractionDigits)
    {
        Span<char> buf = stackalloc char[26];
        var n = FormatDateTime(buf, fractionDigits, ' ');
        return new string(buf[..n]);
    }

    /// <summary>Formats as <c>[-]HH:MM:SS[.ffffff]</c> (hours may exceed 24).</summary>
    public string ToTimeString(int fractionDigits)
    {
        Span<char> buf = stackalloc char[20];
        var n = FormatTime(buf, fractionDigits);
        return new string(buf[..n]);
    }

    /// <summary>Writes <c>YYYY-MM-DD</c> into 10 chars.</summary>
    public void WriteDate(Span<char> dest) => WriteDate<char>(dest);

    /// <summary>Writes date, separator, time and fraction; returns the number of chars written (≤ 26).</summary>
    public int FormatDateTime(Span<char> dest, int fractionDigits, char separator) => FormatDateTime<char>(dest, fractionDigits, separator);

    /// <summary>Writes <c>[-]HH:MM:SS[.ffffff]</c>; returns the number of chars written (≤ 18).</summary>
    public int FormatTime(Span<char> dest, int fractionDigits) => FormatTime<char>(dest, fractionDigits);

    // The formats as UTF-16 chars or UTF-8 bytes (T is char or byte): every character is ASCII.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteDate<T>(Span<T> dest) where T : unmanaged, IBinaryInteger<T>
    {
        Digits(dest, Year, 4);
        dest[4] = T.CreateTruncating('-');
        Digits(dest[5..], Month, 2);
        dest[7] = T.CreateTruncating('-');
        Digits(dest[8..], Day, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int FormatDateTime<T>(Span<T> dest, int fractionDigits, char separator) where T : unmanaged, IBinaryInteger<T>
    {
        WriteDate(dest);
        dest[10] = T.CreateTruncating(separator);
        Digits(dest[11..], Hour, 2);
        dest[13] = T.CreateTruncating(':');
        Digits(dest[14..], Minute, 2);
        dest[16] = T.CreateTruncating(':');
        Digits(dest[17..], Second, 2);
        return 19 + WriteFraction(dest[19..], Microsecond, fractionDigits);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int FormatTime<T>(Span<T> dest, int fractionDigits) where T : unmanaged, IBinaryInteger<T>
    {
        var i = 0;
        if (IsNegative) dest[i++] = T.CreateTruncating('-');
        var hourDigits = Hour >= 100 ? 3 : 2;
        Digits(dest[i..], Hour, hourDigits);
        i += hourDigits;
        dest[i++] = T.CreateTruncating(':');
        Digits(dest[i..], Minute, 2);
        i += 2;
        dest[i++] = T.CreateTruncating(':');
        Digits(dest[i..], Second, 2);
        i += 2;
        return i + WriteFraction(dest[i..], Microsecond, fractionDigits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int WriteFraction<T>(Span<T> dest, int microsecond, int digits) where T : unmanaged, IBinaryInteger<T>
    {
        if (digits <= 0) return 0;
        dest[0] = T.CreateTruncating('.');
        var v = microsecond;
        for (var d = 6; d > digits; d--) v /= 10;
        Digits(dest[1..], v, digits);
        return digits + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Digits<T>(Span<T> dest, int value, int count) where T : unmanaged, IBinaryInteger<T>
    {
        for (var i = count - 1; i >= 0; i--)
        {
            dest[i] = T.CreateTruncating('0' + value % 10);
            value /= 10;
        }
    }

    /// <inheritdoc />
    public override string ToString() => ToDateTimeString(Microsecond == 0 ? 0 : 6);

    /// <summary>Converts to <see cref="DateTime"/> when the value is a valid calendar date.</summary>
    public bool TryToDateTime(out DateTime value)
    {
        value = default;
        if (Year < 1 || Month < 1 || Month > 12 || Day < 1 || Day > DateTime.DaysInMonth(Year, Month) || Hour > 23) return false;
        value = new DateTime(Year, Month, Day, Hour, Minute, Second, DateTimeKind.Unspecified).AddTicks(Microsecond * 10L);
        return true;
    }

}
