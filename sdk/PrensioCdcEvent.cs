using System.Buffers;
using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>
/// prensio's (go-mysql-kafka's) <c>cdc_event</c>, built from an event: the message <c>format: prensio</c> writes and the
/// object prensio-contract JavaScript rules receive.
/// <c>{"schema","table","action","before":[row]|null,"after":[row]|null,"meta":{"timestamp","pipeline"},"kafka":{"topic","key"}}</c>
/// followed by <see cref="ChangeEvent.Extra"/> fields. One row per event (arrays of length one).
/// </summary>
public static class PrensioCdcEvent
{
    /// <summary>prensio's action: insert, update or delete (a snapshot read is an insert: prensio had no snapshots).</summary>
    public static string Action(ChangeOperation op) => op switch
    {
        ChangeOperation.Update => "update",
        ChangeOperation.Delete => "delete",
        _ => "insert",
    };

    /// <summary>prensio's default topic: <c>schema.table</c>.</summary>
    public static string DefaultTopic(ChangeEvent e) => e.Database + "." + e.Table;

    /// <summary>
    /// prensio's message key: the primary-key values as text joined with <c>.</c>, taken from <c>after</c> for inserts and
    /// from <c>before</c> otherwise; <paramref name="topic"/> when the table has no known key (or the row image is missing).
    /// </summary>
    public static string Key(ChangeEvent e, string topic)
    {
        var row = e.Op is ChangeOperation.Insert or ChangeOperation.Read ? e.After : e.Before ?? e.After;
        if (e.Schema is not { PrimaryKey.Count: > 0 } schema || row is null) return topic;
        if (schema.PrimaryKey.Count == 1) return ChangeEventJson.FormatScalar(row[schema.PrimaryKey[0]]);
        var parts = new string[schema.PrimaryKey.Count];
        for (var i = 0; i < parts.Length; i++) parts[i] = ChangeEventJson.FormatScalar(row[schema.PrimaryKey[i]]);
        return string.Join('.', parts);
    }

    /// <summary>
    /// Writes the <c>cdc_event</c> of <paramref name="e"/> sent to <paramref name="topic"/> with <paramref name="key"/>
    /// into <paramref name="w"/>; <paramref name="pipeline"/> is <c>meta.pipeline</c> (prensio wrote a constant,
    /// <c>test-pipeline</c>; here the pipeline's name).
    /// </summary>
    public static void Write(Utf8JsonWriter w, ChangeEvent e, string pipeline, string topic, string key)
    {
        w.WriteStartObject();
        w.WriteString("schema"u8, e.Database);
        w.WriteString("table"u8, e.Table);
        w.WriteString("action"u8, Action(e.Op));
        w.WritePropertyName("before"u8);
        WriteRows(w, e.Before, e.Schema);
        w.WritePropertyName("after"u8);
        WriteRows(w, e.After, e.Schema);
        w.WriteStartObject("meta"u8);
        w.WriteNumber("timestamp"u8, Microseconds(e.Timestamp));
        w.WriteString("pipeline"u8, pipeline);
        w.WriteEndObject();
        w.WriteStartObject("kafka"u8);
        w.WriteString("topic"u8, topic);
        w.WriteString("key"u8, key);
        w.WriteEndObject();
        WriteExtras(w, e);
        w.WriteEndObject();
    }

    /// <summary>The fields a rule added to the <c>cdc_event</c> (<see cref="ChangeEvent.Extra"/>), but prensio's own.</summary>
    public static void WriteExtras(Utf8JsonWriter w, ChangeEvent e)
    {
        if (!e.HasExtra) return;
        foreach (var kv in e.Extra)
        {
            if (kv.Key is "schema" or "action" or "meta" or "kafka") continue; // prensio's own fields are written before
            w.WritePropertyName(kv.Key);
            ChangeEventJson.WriteValue(w, kv.Value, null);
        }
    }

    /// <summary>The <c>cdc_event</c> as a JSON string, with the default topic and key.</summary>
    public static string Serialize(ChangeEvent e, string pipeline)
    {
        var topic = e.Destination is { Length: > 0 } d ? d : DefaultTopic(e);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions)) Write(w, e, pipeline, topic, Key(e, topic));
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Unix time in microseconds (prensio's <c>meta.timestamp</c> unit).</summary>
    public static long Microseconds(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static void WriteRows(Utf8JsonWriter w, Row? row, TableInfo? schema)
    {
        if (row is null)
        {
            w.WriteNullValue(); // prensio: a nil slice (before of an insert, after of a delete) is JSON null
            return;
        }
        w.WriteStartArray();
        ChangeEventJson.WriteRow(w, row, schema);
        w.WriteEndArray();
    }
}
