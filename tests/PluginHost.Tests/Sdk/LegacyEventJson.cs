using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

/// <summary>
/// The event JSON writer as it was before it wrote numbers and dates straight into UTF-8 and rows by column position
/// (commit 7e4ea2d): the reference the current writer's bytes are compared with (<see cref="EventJsonWriterParityTests"/>).
/// </summary>
internal static class LegacyEventJson
{
    private static readonly JsonEncodedText OpInsert = JsonEncodedText.Encode("insert");
    private static readonly JsonEncodedText OpUpdate = JsonEncodedText.Encode("update");
    private static readonly JsonEncodedText OpDelete = JsonEncodedText.Encode("delete");
    private static readonly JsonEncodedText OpRead = JsonEncodedText.Encode("read");

    /// <summary>Writes one event as a JSON object.</summary>
    internal static void Write(Utf8JsonWriter w, ChangeEvent e)
    {
        w.WriteStartObject();
        w.WriteString("op"u8, e.Op switch { ChangeOperation.Insert => OpInsert, ChangeOperation.Update => OpUpdate, ChangeOperation.Read => OpRead, _ => OpDelete });
        w.WriteString("database"u8, e.Database);
        w.WriteString("table"u8, e.Table);
        w.WritePropertyName("before"u8);
        WriteRow(w, e.Before, e.Schema);
        w.WritePropertyName("after"u8);
        WriteRow(w, e.After, e.Schema);
        if (e.Gtid is null) w.WriteNull("gtid"u8); else w.WriteString("gtid"u8, e.Gtid);
        if (e.File is null) w.WriteNull("file"u8); else w.WriteString("file"u8, e.File);
        w.WriteNumber("pos"u8, e.Position);
        Span<char> ts = stackalloc char[20];
        FormatTimestampSeconds(e.Timestamp, ts);
        w.WriteString("ts"u8, ts);
        if (e.HasExtra)
            foreach (var kv in e.Extra)
            {
                w.WritePropertyName(kv.Key);
                WriteValue(w, kv.Value, null);
            }
        w.WriteEndObject();
    }

    /// <summary>Writes a row image as a JSON object, or null.</summary>
    internal static void WriteRow(Utf8JsonWriter w, Row? row, TableInfo? schema)
    {
        if (row is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        foreach (var kv in row)
        {
            if (schema != null && schema.TryFind(kv.Key, out var column, out var jsonName))
            {
                w.WritePropertyName(jsonName);
                WriteValue(w, kv.Value, column);
            }
            else
            {
                w.WritePropertyName(kv.Key);
                WriteValue(w, kv.Value, null);
            }
        }
        w.WriteEndObject();
    }

    /// <summary>Writes one value by the event JSON rules; <paramref name="column"/> supplies fractional-second digits.</summary>
    internal static void WriteValue(Utf8JsonWriter w, object? value, ColumnInfo? column)
    {
        Span<char> buf = stackalloc char[40];
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            // JSON has no NaN or infinities (SQL columns never hold them; a transform might): written as strings, not thrown.
            case double d when !double.IsFinite(d): w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture)); break;
            case float f when !float.IsFinite(f): w.WriteStringValue(f.ToString(CultureInfo.InvariantCulture)); break;
            case double d: w.WriteNumberValue(d); break;
            case float f: w.WriteNumberValue(f); break;
            case decimal m: w.WriteStringValue(m.ToString(CultureInfo.InvariantCulture)); break;
            case bool b: w.WriteBooleanValue(b); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case DateOnly date: w.WriteStringValue(buf[..FormatDate(date, buf)]); break;
            case DateTime dt: w.WriteStringValue(buf[..FormatDateTime(dt, column?.FractionDigits ?? -1, buf)]); break;
            case DateTimeOffset dto: w.WriteStringValue(buf[..FormatTimestamp(dto, column?.FractionDigits ?? -1, buf)]); break;
            case TimeSpan t: w.WriteStringValue(buf[..FormatTime(t, column?.FractionDigits ?? -1, buf)]); break;
            case JsonNode node: node.WriteTo(w); break;
            case JsonElement el: el.WriteTo(w); break;
            case short or sbyte or byte or ushort or uint: w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case Row row: WriteRow(w, row, null); break;
            case IDictionary<string, object?> dict:
                w.WriteStartObject();
                foreach (var kv in dict)
                {
                    w.WritePropertyName(kv.Key);
                    WriteValue(w, kv.Value, null);
                }
                w.WriteEndObject();
                break;
            case IEnumerable seq:
                w.WriteStartArray();
                foreach (var item in seq) WriteValue(w, item, null);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>A value as plain text (no quotes), for keys and logs.</summary>
    internal static string FormatScalar(object? value)
    {
        Span<char> buf = stackalloc char[40];
        return value switch
        {
            null => "null",
            string s => s,
            byte[] b => Convert.ToBase64String(b),
            DateOnly d => new string(buf[..FormatDate(d, buf)]),
            DateTime dt => new string(buf[..FormatDateTime(dt, -1, buf)]),
            DateTimeOffset o => new string(buf[..FormatTimestamp(o, -1, buf)]),
            TimeSpan t => new string(buf[..FormatTime(t, -1, buf)]),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    private static void FormatTimestampSeconds(DateTimeOffset ts, Span<char> dest)
    {
        var n = FormatDateAndTime(ts.UtcDateTime, 'T', dest);
        dest[n] = 'Z';
    }

    private static int FormatDate(DateOnly d, Span<char> dest) => FormatYmd(d.Year, d.Month, d.Day, dest);

    /// <summary><c>yyyy-MM-dd</c> with plain digit arithmetic (custom format strings take the framework's slow path).</summary>
    private static int FormatYmd(int year, int month, int day, Span<char> dest)
    {
        Digits(year, 4, dest);
        dest[4] = '-';
        Digits(month, 2, dest[5..]);
        dest[7] = '-';
        Digits(day, 2, dest[8..]);
        return 10;
    }

    /// <summary><c>yyyy-MM-dd HH:mm:ss</c> (or with <c>T</c>): 19 characters.</summary>
    private static int FormatDateAndTime(DateTime dt, char separator, Span<char> dest)
    {
        FormatYmd(dt.Year, dt.Month, dt.Day, dest);
        dest[10] = separator;
        Digits(dt.Hour, 2, dest[11..]);
        dest[13] = ':';
        Digits(dt.Minute, 2, dest[14..]);
        dest[16] = ':';
        Digits(dt.Second, 2, dest[17..]);
        return 19;
    }

    private static void Digits(int value, int count, Span<char> dest)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            dest[i] = (char)('0' + value % 10);
            value /= 10;
        }
    }

    private static int Fraction(long ticksOfSecond, int digits, Span<char> dest)
    {
        var micro = (int)(ticksOfSecond / 10);
        if (digits < 0) digits = micro == 0 ? 0 : 6;
        if (digits == 0) return 0;
        dest[0] = '.';
        for (var d = 6; d > digits; d--) micro /= 10;
        for (var i = digits; i >= 1; i--)
        {
            dest[i] = (char)('0' + micro % 10);
            micro /= 10;
        }
        return digits + 1;
    }

    private static int FormatDateTime(DateTime dt, int digits, Span<char> dest)
    {
        var n = FormatDateAndTime(dt, ' ', dest);
        return n + Fraction(dt.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
    }

    private static int FormatTimestamp(DateTimeOffset dto, int digits, Span<char> dest)
    {
        var u = dto.UtcDateTime;
        var n = FormatDateAndTime(u, 'T', dest);
        n += Fraction(u.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
        dest[n] = 'Z';
        return n + 1;
    }

    private static int FormatTime(TimeSpan t, int digits, Span<char> dest)
    {
        var n = 0;
        if (t < TimeSpan.Zero)
        {
            dest[n++] = '-';
            t = t.Duration();
        }
        var hours = (long)t.TotalHours;
        var hs = hours.ToString("00", CultureInfo.InvariantCulture);
        hs.AsSpan().CopyTo(dest[n..]);
        n += hs.Length;
        dest[n++] = ':';
        dest[n++] = (char)('0' + t.Minutes / 10);
        dest[n++] = (char)('0' + t.Minutes % 10);
        dest[n++] = ':';
        dest[n++] = (char)('0' + t.Seconds / 10);
        dest[n++] = (char)('0' + t.Seconds % 10);
        return n + Fraction(t.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
    }
}
