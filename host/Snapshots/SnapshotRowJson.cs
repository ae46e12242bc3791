using System.Text.Encodings.Web;
using System.Text.Json;
using PluginHost.Binlog.Values;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// Writes a snapshot row's <c>after</c> object straight from its text-protocol bytes, byte for byte what
/// <see cref="ChangeEventJson.WriteRow"/> writes for the sdk event of the same row (<see cref="SnapshotRows.ToEvent"/>),
/// without making that event. Integers, DECIMAL, valid dates, DATETIME and TIMESTAMP, and text that is UTF-8 (or plain
/// ASCII in an ASCII-compatible charset) are copied from the server's text; any other value, or one not in the exact
/// form checked here, goes through its sdk value and the event writer.
/// </summary>
internal static class SnapshotRowJson
{
    private enum Plan : byte { Other, Integer, Decimal, Text, AsciiText, Date, DateTime, Timestamp }

    /// <summary>True when rows of <paramref name="table"/> can be written this way (rows of the table's own layout).</summary>
    public static bool Supports(SnapshotTable table) => table.Info.RowLayout is not null;

    /// <summary>Writes row <paramref name="row"/> as a JSON object (<see cref="Supports"/> must hold).</summary>
    public static void Write(Utf8JsonWriter w, SnapshotRows rows, int row, byte[] plans)
    {
        var info = rows.Table.Info;
        var names = info.JsonNames;
        var columns = info.ColumnArray;
        w.WriteStartObject();
        for (var c = 0; c < names.Length; c++)
        {
            w.WritePropertyName(names[c]);
            if (rows.IsNull(row, c))
            {
                w.WriteNullValue();
                continue;
            }
            var raw = rows.Value(row, c);
            if (!TryWrite(w, (Plan)plans[c], raw, columns[c].FractionDigits))
                ChangeEventJson.WriteValue(w, SnapshotValues.ToObject(rows.Table.Columns[c], raw, rows.Collations[c]), columns[c]);
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes the row's object into <paramref name="dest"/> by copying, without a JSON writer, when every value is NULL
    /// or copied from the text (the bytes <see cref="Write"/> gives: the writer's separators, its encoded names, and a
    /// text the encoder leaves as is); false when a value is not, or <paramref name="dest"/> is too small (then
    /// <see cref="Write"/> writes the row).
    /// </summary>
    public static bool TryCopy(Span<byte> dest, SnapshotRows rows, int row, byte[] plans, out int written)
    {
        written = 0;
        var info = rows.Table.Info;
        var names = info.JsonNames;
        var columns = info.ColumnArray;
        var encoder = ChangeEventJson.WriterOptions.Encoder!;
        if (dest.Length < 2) return false;
        var at = 0;
        dest[at++] = (byte)'{';
        for (var c = 0; c < names.Length; c++)
        {
            var name = names[c].EncodedUtf8Bytes;
            var raw = rows.Value(row, c);
            // comma, quoted name, colon, the value quoted with a T and a Z at most (or null), the closing brace
            if (at + name.Length + raw.Length + 10 > dest.Length) return false;
            if (c > 0) dest[at++] = (byte)',';
            dest[at++] = (byte)'"';
            name.CopyTo(dest[at..]);
            at += name.Length;
            dest[at++] = (byte)'"';
            dest[at++] = (byte)':';
            if (rows.IsNull(row, c))
            {
                "null"u8.CopyTo(dest[at..]);
                at += 4;
                continue;
            }
            var n = Copy(dest[at..], (Plan)plans[c], raw, columns[c].FractionDigits, encoder);
            if (n < 0) return false;
            at += n;
        }
        dest[at++] = (byte)'}';
        written = at;
        return true;
    }

    /// <summary>The value's JSON copied into <paramref name="dest"/> (its length), or -1 where <see cref="TryWrite"/> would not copy it as is.</summary>
    private static int Copy(Span<byte> dest, Plan plan, ReadOnlySpan<byte> raw, int fractionDigits, JavaScriptEncoder encoder)
    {
        switch (plan)
        {
            case Plan.Integer:
                if (!IsCanonicalInteger(raw)) return -1;
                raw.CopyTo(dest);
                return raw.Length;
            case Plan.Decimal:
                return IsCanonicalDecimal(raw) ? Quoted(dest, raw, default, raw.Length) : -1;
            case Plan.Text:
                return System.Text.Unicode.Utf8.IsValid(raw) && encoder.FindFirstCharacterToEncodeUtf8(raw) < 0 ? Quoted(dest, raw, default, raw.Length) : -1;
            case Plan.AsciiText:
                return raw.IndexOfAnyExceptInRange((byte)0, (byte)0x7F) < 0 && encoder.FindFirstCharacterToEncodeUtf8(raw) < 0
                    ? Quoted(dest, raw, default, raw.Length)
                    : -1;
            case Plan.Date:
                return raw.Length == 10 && IsValidDate(raw) ? Quoted(dest, raw, default, raw.Length) : -1;
            case Plan.DateTime:
                return IsValidDateTime(raw, fractionDigits) ? Quoted(dest, raw, default, raw.Length) : -1;
            case Plan.Timestamp:
                return IsValidDateTime(raw, fractionDigits) && !(raw.StartsWith("1970-01-01 00:00:00"u8) && IsZeroFraction(raw[19..]))
                    ? Quoted(dest, raw, "Z"u8, 10)
                    : -1;
            default:
                return -1;
        }
    }

    /// <summary><see cref="WriteQuoted"/>'s bytes, copied into <paramref name="dest"/>: their length.</summary>
    private static int Quoted(Span<byte> dest, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> suffix, int separator)
    {
        dest[0] = (byte)'"';
        raw.CopyTo(dest[1..]);
        if (separator < raw.Length) dest[1 + separator] = (byte)'T';
        suffix.CopyTo(dest[(1 + raw.Length)..]);
        var n = 1 + raw.Length + suffix.Length;
        dest[n] = (byte)'"';
        return n + 1;
    }

    /// <summary>How each column of <paramref name="rows"/> is written (per chunk: the collations are the result's).</summary>
    public static byte[] Plans(SnapshotRows rows)
    {
        var columns = rows.Table.Columns;
        var plans = new byte[columns.Count];
        for (var c = 0; c < plans.Length; c++)
            plans[c] = (byte)(columns[c].Kind switch
            {
                ColumnKind.Integer or ColumnKind.Year => Plan.Integer,
                ColumnKind.Decimal => Plan.Decimal,
                ColumnKind.Text or ColumnKind.Enum when Charsets.IsUtf8(rows.Collations[c]) => Plan.Text,
                ColumnKind.Text or ColumnKind.Enum when Charsets.IsAsciiTransparent(rows.Collations[c]) => Plan.AsciiText,
                ColumnKind.Date => Plan.Date,
                ColumnKind.DateTime => Plan.DateTime,
                ColumnKind.Timestamp => Plan.Timestamp,
                _ => Plan.Other,
            });
        return plans;
    }

    private static bool TryWrite(Utf8JsonWriter w, Plan plan, ReadOnlySpan<byte> raw, int fractionDigits)
    {
        switch (plan)
        {
            case Plan.Integer:
                // The text of a number the writer would print the same: no sign on zero, no leading zeros (ZEROFILL, YEAR 0000).
                if (!IsCanonicalInteger(raw)) return false;
                w.WriteRawValue(raw, skipInputValidation: true);
                return true;
            case Plan.Decimal:
                if (!IsCanonicalDecimal(raw)) return false;
                return WriteQuoted(w, raw, default, raw.Length);
            case Plan.Text:
                if (!System.Text.Unicode.Utf8.IsValid(raw)) return false;
                w.WriteStringValue(raw);
                return true;
            case Plan.AsciiText:
                if (raw.IndexOfAnyExceptInRange((byte)0, (byte)0x7F) >= 0) return false;
                w.WriteStringValue(raw);
                return true;
            case Plan.Date:
                if (raw.Length != 10 || !IsValidDate(raw)) return false;
                return WriteQuoted(w, raw, default, raw.Length);
            case Plan.DateTime:
                if (!IsValidDateTime(raw, fractionDigits)) return false;
                return WriteQuoted(w, raw, default, raw.Length);
            case Plan.Timestamp:
                // UTC text (the session's time zone); 1970-01-01 00:00:00.0 is the stream's zero timestamp, a string.
                if (!IsValidDateTime(raw, fractionDigits) || raw.StartsWith("1970-01-01 00:00:00"u8) && IsZeroFraction(raw[19..])) return false;
                return WriteQuoted(w, raw, "Z"u8, 10);
            default:
                return false;
        }
    }

    /// <summary>Writes <c>"raw"</c> (or <c>"dateTtime…Z"</c> for a timestamp: <paramref name="suffix"/> after, a <c>T</c> at <paramref name="separator"/>).</summary>
    private static bool WriteQuoted(Utf8JsonWriter w, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> suffix, int separator)
    {
        Span<byte> buf = stackalloc byte[80];
        if (raw.Length + suffix.Length + 2 > buf.Length) return false;
        w.WriteRawValue(buf[..Quoted(buf, raw, suffix, separator)], skipInputValidation: true);
        return true;
    }

    private static bool IsCanonicalInteger(ReadOnlySpan<byte> s)
    {
        var i = s.Length > 0 && s[0] == '-' ? 1 : 0;
        if (s.Length == i || s.Length - i > 20) return false;
        if (s[i] == '0') return s.Length == 1; // "0" only: no "-0", no leading zeros
        for (; i < s.Length; i++)
            if ((uint)(s[i] - '0') > 9) return false;
        return true;
    }

    /// <summary><c>-?(0|[1-9][0-9]*)(\.[0-9]+)?</c>, not a negative zero: what the decimal (or its digits) prints the same.</summary>
    private static bool IsCanonicalDecimal(ReadOnlySpan<byte> s)
    {
        var negative = s.Length > 0 && s[0] == '-';
        var i = negative ? 1 : 0;
        if (s.Length == i || s.Length > 70) return false;
        var start = i;
        var nonZero = false;
        for (; i < s.Length && s[i] != '.'; i++)
        {
            if ((uint)(s[i] - '0') > 9) return false;
            nonZero |= s[i] != '0';
        }
        if (i == start || s[start] == '0' && i - start > 1) return false;
        if (i < s.Length)
        {
            if (++i == s.Length) return false;
            for (; i < s.Length; i++)
            {
                if ((uint)(s[i] - '0') > 9) return false;
                nonZero |= s[i] != '0';
            }
        }
        return !negative || nonZero;
    }

    private static bool IsValidDate(ReadOnlySpan<byte> s)
    {
        if (s.Length < 10 || s[4] != '-' || s[7] != '-') return false;
        if (!Number(s, 0, 4, out var year) || !Number(s, 5, 2, out var month) || !Number(s, 8, 2, out var day)) return false;
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    /// <summary><c>yyyy-MM-dd HH:mm:ss</c> with exactly <paramref name="fractionDigits"/> digits after a dot, a valid date and time.</summary>
    private static bool IsValidDateTime(ReadOnlySpan<byte> s, int fractionDigits)
    {
        if (fractionDigits is < 0 or > 6 || s.Length != 19 + (fractionDigits > 0 ? fractionDigits + 1 : 0)) return false;
        if (!IsValidDate(s) || s[10] != ' ' || s[13] != ':' || s[16] != ':') return false;
        if (!Number(s, 11, 2, out var hour) || !Number(s, 14, 2, out var minute) || !Number(s, 17, 2, out var second)) return false;
        if (hour > 23 || minute > 59 || second > 59) return false;
        return fractionDigits == 0 || s[19] == '.' && Number(s, 20, fractionDigits, out _);
    }

    private static bool IsZeroFraction(ReadOnlySpan<byte> s) => s.IsEmpty || s[1..].IndexOfAnyExcept((byte)'0') < 0;

    private static bool Number(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var digit = s[i] - '0';
            if ((uint)digit > 9) return false;
            value = value * 10 + digit;
        }
        return true;
    }
}
