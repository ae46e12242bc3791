using System.Numerics;
using System.Text;

namespace PluginHost.Tests.Support;

/// <summary>
/// C's <c>printf("%.Pg")</c> as glibc does it: the exact binary value rounded to P significant digits
/// (round-half-even on the exact decimal expansion), fixed notation when −4 ≤ exponent &lt; P, otherwise
/// <c>d.ddde±XX</c>; trailing zeros and a trailing point removed. Written from the C standard's definition, with
/// exact big-integer arithmetic, so it does not depend on .NET's own rounding.
/// </summary>
public static class CFormat
{
    /// <summary><c>%.{precision}g</c>.</summary>
    public static string G(double value, int precision)
    {
        if (precision == 0) precision = 1;
        if (double.IsNaN(value)) return double.IsNegative(value) ? "-nan" : "nan";
        if (double.IsInfinity(value)) return value < 0 ? "-inf" : "inf";
        var negative = double.IsNegative(value);
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (value == 0)
        {
            sb.Append('0');
            return sb.ToString();
        }
        // value = mantissa * 2^exp exactly.
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(value));
        var e = (int)((bits >> 52) & 0x7FF);
        var m = bits & ((1L << 52) - 1);
        if (e == 0) e = 1; else m |= 1L << 52;
        e -= 1075;
        BigInteger num = m, den = BigInteger.One;
        if (e >= 0) num <<= e; else den <<= -e;

        // Decimal exponent x with 10^x <= value < 10^(x+1).
        var x = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        while (Compare(num, den, x) < 0) x--;
        while (Compare(num, den, x + 1) >= 0) x++;

        // Round to precision significant digits: q = round(value * 10^(precision-1-x)).
        var q = RoundScaled(num, den, precision - 1 - x);
        if (q >= BigInteger.Pow(10, precision))
        {
            x++;
            q = RoundScaled(num, den, precision - 1 - x);
        }
        var digits = q.ToString().PadLeft(precision, '0');
        if (x < -4 || x >= precision)
        {
            var mant = digits[..1] + (precision > 1 ? "." + digits[1..] : "");
            mant = StripZeros(mant);
            sb.Append(mant).Append('e').Append(x < 0 ? '-' : '+').Append(Math.Abs(x).ToString("00"));
        }
        else
        {
            string s;
            if (x >= 0)
            {
                var intDigits = digits[..(x + 1)];
                var frac = digits[(x + 1)..];
                s = frac.Length > 0 ? intDigits + "." + frac : intDigits;
            }
            else
            {
                s = "0." + new string('0', -x - 1) + digits;
            }
            sb.Append(StripZeros(s));
        }
        return sb.ToString();
    }

    /// <summary><c>%-20g</c> of a FLOAT widened to double, as mariadb-binlog prints FLOAT columns.</summary>
    public static string FloatLikeMariaDbBinlog(float f) => G(f, 6).PadRight(20);

    /// <summary><c>%-.20g</c>, as mariadb-binlog prints DOUBLE columns.</summary>
    public static string DoubleLikeMariaDbBinlog(double d) => G(d, 20);

    private static string StripZeros(string s)
    {
        if (!s.Contains('.')) return s;
        s = s.TrimEnd('0');
        return s.EndsWith('.') ? s[..^1] : s;
    }

    // Compares num/den with 10^x.
    private static int Compare(BigInteger num, BigInteger den, int x) =>
        x >= 0 ? num.CompareTo(den * BigInteger.Pow(10, x)) : (num * BigInteger.Pow(10, -x)).CompareTo(den);

    private static BigInteger RoundScaled(BigInteger num, BigInteger den, int scale)
    {
        if (scale >= 0) num *= BigInteger.Pow(10, scale); else den *= BigInteger.Pow(10, -scale);
        var q = BigInteger.DivRem(num, den, out var r);
        var twice = r * 2;
        var c = twice.CompareTo(den);
        if (c > 0 || (c == 0 && !q.IsEven)) q += 1;
        return q;
    }
}
