using System.Text.Json;

namespace PluginHost.Binlog.Values;

/// <summary>
/// Writes column values in the event JSON shape: integers as numbers, DECIMAL as a string of its digits, dates and
/// times as MariaDB prints them, TIMESTAMP as UTC ISO-8601, binary as base64, ENUM as its label, SET as an array of
/// labels, JSON embedded (MySQL binary JSON, and MariaDB text JSON when the schema marked the column; text that is
/// not valid JSON falls back to a string).
/// </summary>
public static class ColumnValueJson
{
    /// <summary>Writes one value (the caller writes the property name). Missing values must be skipped by the caller.</summary>
    public static void Write(Utf8JsonWriter w, in ColumnValue v)
    {
        Span<char> buf = stackalloc char[32];
        switch (v.Kind)
        {
            case ValueKind.Missing:
            case ValueKind.Null:
                w.WriteNullValue();
                break;
            case ValueKind.Int:
            case ValueKind.Year:
                w.WriteNumberValue(v.Int64);
                break;
            case ValueKind.UInt:
            case ValueKind.Bit:
                w.WriteNumberValue(v.UInt64);
                break;
            case ValueKind.Float:
                w.WriteNumberValue(v.Float);
                break;
            case ValueKind.Double:
                w.WriteNumberValue(v.Double);
                break;
            case ValueKind.Decimal:
                WriteDecimal(w, v);
                break;
            case ValueKind.String:
                // UTF-8, or plain ASCII in a charset that reads ASCII bytes as themselves: the bytes are the text.
                if (Charsets.IsUtf8(v.Aux) || Charsets.IsAsciiTransparent(v.Aux) && System.Text.Ascii.IsValid(v.RawBytes))
                    w.WriteStringValue(v.RawBytes);
                else w.WriteStringValue(v.AsString());
                break;
            case ValueKind.Bytes when v.BinaryLength != v.RawBytes.Length:
            {
                // BINARY(n), n ≤ 255: restore the zero padding the binlog leaves out.
                Span<byte> padded = v.BinaryLength <= 256 ? stackalloc byte[256] : new byte[v.BinaryLength];
                w.WriteBase64StringValue(padded[..v.CopyBinaryTo(padded)]);
                break;
            }
            case ValueKind.Bytes:
            case ValueKind.Geometry:
                w.WriteBase64StringValue(v.RawBytes);
                break;
            case ValueKind.Json when v.IsJsonText:
                WriteJsonText(w, v);
                break;
            case ValueKind.Json:
                var json = v.JsonText();
                w.WriteRawValue(json.Length == 0 ? "null" : json, skipInputValidation: true);
                break;
            case ValueKind.Date:
                v.DateTimeParts.WriteDate(buf);
                w.WriteStringValue(buf[..10]);
                break;
            case ValueKind.DateTime:
                w.WriteStringValue(buf[..v.DateTimeParts.FormatDateTime(buf, v.Scale, ' ')]);
                break;
            case ValueKind.Time:
                w.WriteStringValue(buf[..v.DateTimeParts.FormatTime(buf, v.Scale)]);
                break;
            case ValueKind.Timestamp:
                w.WriteStringValue(buf[..v.FormatTimestamp(buf)]);
                break;
            case ValueKind.Enum:
                if (v.EnumLabel is { } label) w.WriteStringValue(label);
                else w.WriteNumberValue(v.Int64);
                break;
            case ValueKind.Set:
                if (v.SetLabels is { } labels)
                {
                    w.WriteStartArray();
                    foreach (var l in labels) w.WriteStringValue(l);
                    w.WriteEndArray();
                }
                else w.WriteNumberValue(v.UInt64);
                break;
            default:
                w.WriteNullValue();
                break;
        }
    }

    private static void WriteDecimal(Utf8JsonWriter w, in ColumnValue v)
    {
        Span<char> digits = stackalloc char[BinaryDecimal.MaxChars];
        w.WriteStringValue(digits[..v.FormatDecimal(digits)]);
    }

    /// <summary>
    /// What counts as valid MariaDB text JSON, here and for the sdk value (<c>ChangeEventFactory</c>): one JSON value,
    /// no duplicate names in an object (json_valid accepts them; a JsonNode cannot hold them).
    /// </summary>
    public static readonly JsonDocumentOptions TextJsonOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// MariaDB text JSON, embedded: compact and escaped by the writer's rules, exactly as the same document parsed into
    /// a JsonNode and written (the sink path) comes out. Text that is not valid JSON (<see cref="TextJsonOptions"/>: a
    /// check constraint added after the row was written, a column the schema wrongly called JSON) is written as a
    /// string instead: the value is kept, never dropped.
    /// </summary>
    private static void WriteJsonText(Utf8JsonWriter w, in ColumnValue v)
    {
        JsonDocument document;
        try
        {
            var utf8 = Charsets.IsUtf8(v.Aux) ? v.RawBytes.ToArray() : System.Text.Encoding.UTF8.GetBytes(v.JsonText());
            document = JsonDocument.Parse(utf8, TextJsonOptions);
        }
        catch (JsonException)
        {
            w.WriteStringValue(v.AsString());
            return;
        }
        using (document) document.RootElement.WriteTo(w);
    }
}
