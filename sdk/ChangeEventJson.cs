using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginHost.Sdk;

/// <summary>
/// The event JSON — the one shape every sink and <c>pluginhost decode</c> use:
/// <c>{"op":"insert","database":"shop","table":"users","before":null,"after":{…},"gtid":"0-1-42","file":"mysql-bin.000001","pos":1234,"ts":"2026-11-21T10:00:00Z"}</c>
/// followed by <see cref="ChangeEvent.Extra"/> fields.
/// </summary>
public static class ChangeEventJson
{
    /// <summary>Writer options used for event JSON: compact, non-ASCII text kept as is.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText OpInsert = JsonEncodedText.Encode("insert");
    private static readonly JsonEncodedText OpUpdate = JsonEncodedText.Encode("update");
    private static readonly JsonEncodedText OpDelete = JsonEncodedText.Encode("delete");
    private static readonly JsonEncodedText OpRead = JsonEncodedText.Encode("read");

    /// <summary>The JSON name of an operation.</summary>
    public static string OpName(ChangeOperation op) => op switch
    {
        ChangeOperation.Insert => "insert",
        ChangeOperation.Update => "update",
        ChangeOperation.Read => "read",
        _ => "delete",
    };

    /// <summary>Writes one event as a JSON object.</summary>
    public static void Write(Utf8JsonWriter w, ChangeEvent e)
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
        w.WritePropertyName("ts"u8);
        Span<byte> ts = stackalloc byte[22];
        ts[0] = (byte)'"';
        FormatTimestampSeconds(e.Timestamp, ts[1..]);
        ts[21] = (byte)'"';
        w.WriteRawValue(ts, skipInputValidation: true);
        if (e.HasExtra)
            foreach (var kv in e.Extra)
            {
                w.WritePropertyName(kv.Key);
                WriteValue(w, kv.Value, null);
            }
        w.WriteEndObject();
    }

    /// <summary>The event as a JSON string.</summary>
    public static string Serialize(ChangeEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) Write(w, e);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The event as UTF-8 JSON bytes.</summary>
    public static byte[] SerializeToUtf8Bytes(ChangeEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) Write(w, e);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a row image as a JSON object, or null.</summary>
    public static void WriteRow(Utf8JsonWriter w, Row? row, TableInfo? schema)
    {
        if (row is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        if (schema is { RowLayout: { } layout } && ReferenceEquals(row.Layout, layout))
        {
            // The row has the table's columns in order (as read): names and types by position, no lookup per value.
            var names = schema.JsonNames;
            var columns = schema.ColumnArray;
            for (var i = 0; i < names.Length; i++)
            {
                w.WritePropertyName(names[i]);
                WriteValue(w, row.ValueAt(i), columns[i]);
            }
            w.WriteEndObject();
            return;
        }
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
    public static void WriteValue(Utf8JsonWriter w, object? value, ColumnInfo? column)
    {
        // Text of numbers, dates and times is formatted straight into UTF-8 between quotes and written as is (no
        // string, no transcoding, nothing to escape: digits and separators only); common types of row values first.
        Span<byte> buf = stackalloc byte[48];
        var text = buf[1..];
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case long l: w.WriteNumberValue(l); break;
            case decimal m:
                m.TryFormat(text, out var written, default, CultureInfo.InvariantCulture);
                WriteQuoted(w, buf, written);
                break;
            case DateTime dt: WriteQuoted(w, buf, FormatDateTime(dt, column?.FractionDigits ?? -1, text)); break;
            case DateTimeOffset dto: WriteQuoted(w, buf, FormatTimestamp(dto, column?.FractionDigits ?? -1, text)); break;
            case int i: w.WriteNumberValue(i); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            // JSON has no NaN or infinities (SQL columns never hold them; a transform might): written as strings, not thrown.
            case double d when !double.IsFinite(d): w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture)); break;
            case float f when !float.IsFinite(f): w.WriteStringValue(f.ToString(CultureInfo.InvariantCulture)); break;
            case double d: w.WriteNumberValue(d); break;
            case float f: w.WriteNumberValue(f); break;
            case bool b: w.WriteBooleanValue(b); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case DateOnly date: WriteQuoted(w, buf, FormatDate(date, text)); break;
            case TimeSpan t: WriteQuoted(w, buf, FormatTime(t, column?.FractionDigits ?? -1, text)); break;
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

    /// <summary>Writes <paramref name="length"/> bytes of ASCII text formatted at <c>buf[1..]</c> as a JSON string.</summary>
    private static void WriteQuoted(Utf8JsonWriter w, Span<byte> buf, int length)
    {
        buf[0] = (byte)'"';
        buf[length + 1] = (byte)'"';
        w.WriteRawValue(buf[..(length + 2)], skipInputValidation: true);
    }

    /// <summary>A value as plain text (no quotes), for keys and logs.</summary>
    public static string FormatScalar(object? value)
    {
        Span<byte> buf = stackalloc byte[48];
        return value switch
        {
            null => "null",
            string s => s,
            byte[] b => Convert.ToBase64String(b),
            DateOnly d => Encoding.ASCII.GetString(buf[..FormatDate(d, buf)]),
            DateTime dt => Encoding.ASCII.GetString(buf[..FormatDateTime(dt, -1, buf)]),
            DateTimeOffset o => Encoding.ASCII.GetString(buf[..FormatTimestamp(o, -1, buf)]),
            TimeSpan t => Encoding.ASCII.GetString(buf[..FormatTime(t, -1, buf)]),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    private static void FormatTimestampSeconds(DateTimeOffset ts, Span<byte> dest)
    {
        var n = FormatDateAndTime(ts.UtcDateTime, (byte)'T', dest);
        dest[n] = (byte)'Z';
    }

    private static int FormatDate(DateOnly d, Span<byte> dest)
    {
        d.Deconstruct(out var year, out var month, out var day);
        return FormatYmd(year, month, day, dest);
    }

    /// <summary><c>yyyy-MM-dd</c> with plain digit arithmetic (custom format strings take the framework's slow path).</summary>
    private static int FormatYmd(int year, int month, int day, Span<byte> dest)
    {
        Digits(year, 4, dest);
        dest[4] = (byte)'-';
        Digits(month, 2, dest[5..]);
        dest[7] = (byte)'-';
        Digits(day, 2, dest[8..]);
        return 10;
    }

    /// <summary><c>yyyy-MM-dd HH:mm:ss</c> (or with <c>T</c>): 19 characters.</summary>
    private static int FormatDateAndTime(DateTime dt, byte separator, Span<byte> dest)
    {
        dt.Deconstruct(out int year, out int month, out int day); // one date computation, not three
        FormatYmd(year, month, day, dest);
        dest[10] = separator;
        var seconds = (int)(dt.TimeOfDay.Ticks / TimeSpan.TicksPerSecond);
        Digits(seconds / 3600, 2, dest[11..]);
        dest[13] = (byte)':';
        Digits(seconds / 60 % 60, 2, dest[14..]);
        dest[16] = (byte)':';
        Digits(seconds % 60, 2, dest[17..]);
        return 19;
    }

    private static void Digits(int value, int count, Span<byte> dest)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            dest[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }

    private static int Fraction(long ticksOfSecond, int digits, Span<byte> dest)
    {
        var micro = (int)(ticksOfSecond / 10);
        if (digits < 0) digits = micro == 0 ? 0 : 6;
        if (digits == 0) return 0;
        dest[0] = (byte)'.';
        for (var d = 6; d > digits; d--) micro /= 10;
        for (var i = digits; i >= 1; i--)
        {
            dest[i] = (byte)('0' + micro % 10);
            micro /= 10;
        }
        return digits + 1;
    }

    private static int FormatDateTime(DateTime dt, int digits, Span<byte> dest)
    {
        var n = FormatDateAndTime(dt, (byte)' ', dest);
        return n + Fraction(dt.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
    }

    private static int FormatTimestamp(DateTimeOffset dto, int digits, Span<byte> dest)
    {
        var u = dto.UtcDateTime;
        var n = FormatDateAndTime(u, (byte)'T', dest);
        n += Fraction(u.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
        dest[n] = (byte)'Z';
        return n + 1;
    }

    private static int FormatTime(TimeSpan t, int digits, Span<byte> dest)
    {
        var n = 0;
        if (t < TimeSpan.Zero)
        {
            dest[n++] = (byte)'-';
            t = t.Duration();
        }
        ((long)t.TotalHours).TryFormat(dest[n..], out var hours, "00", CultureInfo.InvariantCulture);
        n += hours;
        dest[n++] = (byte)':';
        dest[n++] = (byte)('0' + t.Minutes / 10);
        dest[n++] = (byte)('0' + t.Minutes % 10);
        dest[n++] = (byte)':';
        dest[n++] = (byte)('0' + t.Seconds / 10);
        dest[n++] = (byte)('0' + t.Seconds % 10);
        return n + Fraction(t.Ticks % TimeSpan.TicksPerSecond, digits, dest[n..]);
    }

    /// <summary>
    /// Reads an event from its JSON (e.g. a dead-letter line or a sample for <c>pluginhost check</c>). Values come
    /// back as JSON-typed .NET values (long, ulong, double, string, bool, JsonNode for arrays and objects); unknown
    /// top-level fields go to <see cref="ChangeEvent.Extra"/>.
    /// </summary>
    public static ChangeEvent Parse(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("an event must be a JSON object");
        var e = new ChangeEvent();
        foreach (var (name, node) in root)
        {
            switch (name)
            {
                case "op":
                    e.Op = node?.GetValue<string>() switch
                    {
                        "insert" => ChangeOperation.Insert,
                        "update" => ChangeOperation.Update,
                        "delete" => ChangeOperation.Delete,
                        "read" => ChangeOperation.Read,
                        var other => throw new FormatException($"\"op\" must be insert, update, delete or read, not '{other}'"),
                    };
                    break;
                case "database": e.Database = node?.GetValue<string>() ?? ""; break;
                case "table": e.Table = node?.GetValue<string>() ?? ""; break;
                case "before": e.Before = ParseRow(node, "before"); break;
                case "after": e.After = ParseRow(node, "after"); break;
                case "gtid": e.Gtid = node?.GetValue<string>(); break;
                case "file": e.File = node?.GetValue<string>(); break;
                case "pos": e.Position = node?.GetValue<long>() ?? 0; break;
                case "ts":
                    if (node?.GetValue<string>() is { } ts) e.Timestamp = DateTimeOffset.Parse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                    break;
                default: e.Extra[name] = FromNode(node); break;
            }
        }
        return e;
    }

    private static Row? ParseRow(JsonNode? node, string name)
    {
        if (node is null) return null;
        if (node is not JsonObject obj) throw new FormatException($"\"{name}\" must be an object or null");
        var row = new Row(obj.Count);
        foreach (var (k, v) in obj) row[k] = FromNode(v);
        return row;
    }

    private static object? FromNode(JsonNode? node)
    {
        if (node is not JsonValue v) return node?.DeepClone();
        var el = v.GetValue<JsonElement>();
        return el.ValueKind switch
        {
            JsonValueKind.String => el.GetString(),
            JsonValueKind.Number when el.TryGetInt64(out var l) => l,
            JsonValueKind.Number when el.TryGetUInt64(out var ul) => ul,
            JsonValueKind.Number => el.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        };
    }
}
