using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Values;
using PluginHost.Schema;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>
/// Turns one text-protocol value (raw bytes; the session has <c>time_zone = '+00:00'</c> and
/// <c>character_set_results = NULL</c>) into exactly the sdk value the stream gives the same stored value
/// (<see cref="ChangeEventFactory.ToObject"/>): temporal values go through the binlog library's <see cref="ColumnValue"/>
/// and the same <c>ToObject</c>, text is decoded with the binlog decoder's <see cref="Charsets"/>.
/// </summary>
internal static class SnapshotValues
{
    /// <summary>The sdk value of <paramref name="raw"/> for <paramref name="column"/>; <paramref name="collation"/> is the
    /// result column's (the charset the bytes are in).</summary>
    public static object? ToObject(SnapshotColumn column, ReadOnlySpan<byte> raw, int collation)
    {
        switch (column.Kind)
        {
            case ColumnKind.Integer:
                return column.IsUnsigned ? ParseUInt64(raw, column) : ParseInt64(raw, column);
            case ColumnKind.Year:
                return ParseInt64(raw, column);
            case ColumnKind.Decimal:
                return column.Precision <= 28 && decimal.TryParse(raw, NumberStyles.Number, CultureInfo.InvariantCulture, out var d)
                    ? d
                    : Encoding.ASCII.GetString(raw);
            case ColumnKind.Float:
                // Read as CAST(… AS DOUBLE): the float widened exactly, printed so that it round-trips.
                return (float)ParseDouble(raw, column);
            case ColumnKind.Double:
                return ParseDouble(raw, column);
            case ColumnKind.Text:
            case ColumnKind.Enum:
                return Charsets.GetEncoding(collation).GetString(raw);
            case ColumnKind.Set:
                return raw.IsEmpty ? [] : Charsets.GetEncoding(collation).GetString(raw).Split(',');
            case ColumnKind.Binary:
            case ColumnKind.Geometry:
                return raw.ToArray();
            case ColumnKind.Bit:
            {
                ulong bits = 0;
                foreach (var b in raw) bits = bits << 8 | b;
                return bits;
            }
            case ColumnKind.Json:
                return Json(column, Charsets.GetEncoding(collation).GetString(raw));
            case ColumnKind.Date:
            {
                var p = ParseDateTime(raw, column);
                return ChangeEventFactory.ToObject(ColumnValue.FromDate(p));
            }
            case ColumnKind.DateTime:
                return ChangeEventFactory.ToObject(ColumnValue.FromDateTime(ParseDateTime(raw, column), column.FractionDigits));
            case ColumnKind.Timestamp:
                return ChangeEventFactory.ToObject(Timestamp(ParseDateTime(raw, column), column));
            case ColumnKind.Time:
                return ChangeEventFactory.ToObject(ColumnValue.FromTime(ParseTime(raw, column), column.FractionDigits));
            default:
                return Charsets.GetEncoding(collation).GetString(raw);
        }
    }

    /// <summary>JSON as the stream gives it: MySQL's JSON type parsed (empty text: null); MariaDB's (LONGTEXT with a
    /// json_valid check) parsed with the decoder's options, text that is not one JSON value kept as a string.</summary>
    private static object? Json(SnapshotColumn column, string text)
    {
        if (column.DataType == "json") return text.Length == 0 ? null : JsonNode.Parse(text);
        try
        {
            return JsonNode.Parse(text, documentOptions: ColumnValueJson.TextJsonOptions);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static ColumnValue Timestamp(in MySqlDateTime p, SnapshotColumn column)
    {
        if (p.IsZeroDate) return ColumnValue.FromTimestamp(0, 0, column.FractionDigits);
        var utc = new DateTime(p.Year, p.Month, p.Day, p.Hour, p.Minute, p.Second, DateTimeKind.Utc);
        return ColumnValue.FromTimestamp((utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond, p.Microsecond, column.FractionDigits);
    }

    private static long ParseInt64(ReadOnlySpan<byte> raw, SnapshotColumn column) =>
        Utf8Parser.TryParse(raw, out long v, out var used) && used == raw.Length ? v : throw Bad(raw, column);

    private static ulong ParseUInt64(ReadOnlySpan<byte> raw, SnapshotColumn column) =>
        Utf8Parser.TryParse(raw, out ulong v, out var used) && used == raw.Length ? v : throw Bad(raw, column);

    private static double ParseDouble(ReadOnlySpan<byte> raw, SnapshotColumn column) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(raw, column);

    /// <summary><c>YYYY-MM-DD[ HH:MM:SS[.ffffff]]</c>, zero parts kept.</summary>
    internal static MySqlDateTime ParseDateTime(ReadOnlySpan<byte> s, SnapshotColumn column)
    {
        if (s.Length < 10 || s[4] != '-' || s[7] != '-') throw Bad(s, column);
        int year = Digits(s, 0, 4, column), month = Digits(s, 5, 2, column), day = Digits(s, 8, 2, column);
        if (s.Length == 10) return new MySqlDateTime(year, month, day, 0, 0, 0, 0);
        if (s.Length < 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':') throw Bad(s, column);
        return new MySqlDateTime(year, month, day, Digits(s, 11, 2, column), Digits(s, 14, 2, column), Digits(s, 17, 2, column),
            Fraction(s[19..], column));
    }

    /// <summary><c>[-]H…H:MM:SS[.ffffff]</c> (hours may exceed 24).</summary>
    internal static MySqlDateTime ParseTime(ReadOnlySpan<byte> s, SnapshotColumn column)
    {
        var negative = s.Length > 0 && s[0] == '-';
        var t = negative ? s[1..] : s;
        var colon = t.IndexOf((byte)':');
        if (colon < 1 || t.Length < colon + 6 || t[colon + 3] != ':') throw Bad(s, column);
        return new MySqlDateTime(0, 0, 0, Digits(t, 0, colon, column), Digits(t, colon + 1, 2, column), Digits(t, colon + 4, 2, column),
            Fraction(t[(colon + 6)..], column), negative);
    }

    /// <summary>Microseconds of <c>.f…</c> (empty: 0).</summary>
    private static int Fraction(ReadOnlySpan<byte> s, SnapshotColumn column)
    {
        if (s.IsEmpty) return 0;
        if (s[0] != '.' || s.Length > 7 || s.Length < 2) throw Bad(s, column);
        var v = Digits(s, 1, s.Length - 1, column);
        for (var i = s.Length - 1; i < 6; i++) v *= 10;
        return v;
    }

    private static int Digits(ReadOnlySpan<byte> s, int start, int count, SnapshotColumn column)
    {
        var v = 0;
        for (var i = start; i < start + count; i++)
        {
            var digit = s[i] - '0';
            if ((uint)digit > 9) throw Bad(s, column);
            v = v * 10 + digit;
        }
        return v;
    }

    private static SnapshotException Bad(ReadOnlySpan<byte> raw, SnapshotColumn column) =>
        new($"Column '{column.Name}' ({column.DataType}): the server sent '{Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 64)])}', which is not a {column.DataType} value.");
}
