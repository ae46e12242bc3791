using System.Buffers;
using System.Globalization;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>What a request body looks like.</summary>
public enum WebhookFormat
{
    /// <summary>The event JSON (the shape of <c>pluginhost decode</c>).</summary>
    Json,

    /// <summary>pikachu's payload: <c>primary_id</c>, <c>event</c>, <c>table</c>, <c>data</c> | <c>old_data</c>+<c>new_data</c>, <c>timestamp</c>.</summary>
    Pikachu,
}

/// <summary>Writes request bodies: one event as an object, or several as a JSON array.</summary>
public static class WebhookPayload
{
    /// <summary>Writes the body of one request into <paramref name="buffer"/> (an array when <paramref name="asArray"/>).</summary>
    public static void Write(ArrayBufferWriter<byte> buffer, IReadOnlyList<ChangeEvent> events, WebhookFormat format, bool asArray)
    {
        using var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions);
        if (asArray) w.WriteStartArray();
        foreach (var e in events)
        {
            if (format == WebhookFormat.Pikachu) WritePikachu(w, e);
            else ChangeEventJson.Write(w, e);
        }
        if (asArray) w.WriteEndArray();
    }

    /// <summary>One event as a JSON string in the given format (tests, docs).</summary>
    public static string Serialize(ChangeEvent e, WebhookFormat format)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Write(buffer, [e], format, asArray: false);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// pikachu's webhook payload, field for field (<c>internal/types.WebhookPayload</c>): <c>event</c>, <c>table</c>
    /// (without the database), <c>primary_id</c> (the key value; an object for a composite key; the <c>id</c> column when
    /// the table has no key), <c>data</c> (row after an insert, row before a delete) or <c>old_data</c> + <c>new_data</c>
    /// (update), and <c>timestamp</c> (RFC 3339, UTC; here the time of the change in the binlog).
    /// </summary>
    public static void WritePikachu(Utf8JsonWriter w, ChangeEvent e)
    {
        w.WriteStartObject();
        w.WriteString("event"u8, ChangeEventJson.OpName(e.Op == ChangeOperation.Read ? ChangeOperation.Insert : e.Op)); // pikachu's receivers know three events: a snapshot row is an insert
        w.WriteString("table"u8, e.Table);
        w.WritePropertyName("primary_id"u8);
        WritePrimaryId(w, e);
        switch (e.Op)
        {
            case ChangeOperation.Update:
                if (e.Before is { Count: > 0 } before)
                {
                    w.WritePropertyName("old_data"u8);
                    ChangeEventJson.WriteRow(w, before, e.Schema);
                }
                if (e.After is { Count: > 0 } after)
                {
                    w.WritePropertyName("new_data"u8);
                    ChangeEventJson.WriteRow(w, after, e.Schema);
                }
                break;
            default:
                if (e.Current is { Count: > 0 } row)
                {
                    w.WritePropertyName("data"u8);
                    ChangeEventJson.WriteRow(w, row, e.Schema);
                }
                break;
        }
        Span<char> ts = stackalloc char[20];
        e.Timestamp.UtcDateTime.TryFormat(ts, out var n, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        w.WriteString("timestamp"u8, ts[..n]);
        w.WriteEndObject();
    }

    private static void WritePrimaryId(Utf8JsonWriter w, ChangeEvent e)
    {
        var row = e.Current;
        if (row is null)
        {
            w.WriteNullValue();
            return;
        }
        var key = e.Schema?.PrimaryKey;
        if (key is { Count: 1 })
        {
            ChangeEventJson.WriteValue(w, row[key[0]], e.Schema!.Find(key[0]));
            return;
        }
        if (key is { Count: > 1 })
        {
            w.WriteStartObject();
            foreach (var name in key)
            {
                w.WritePropertyName(name);
                ChangeEventJson.WriteValue(w, row[name], e.Schema!.Find(name));
            }
            w.WriteEndObject();
            return;
        }
        // pikachu: no primary key → the "id" column if there is one, else null.
        if (row.TryGetValue("id", out var id)) ChangeEventJson.WriteValue(w, id, e.Schema?.Find("id"));
        else w.WriteNullValue();
    }
}
