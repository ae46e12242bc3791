using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// <c>format: prensio</c>: the key and value go-mysql-kafka (prensio) produced — the <c>cdc_event</c> JSON
/// (<see cref="PrensioCdcEvent"/>) as value, the primary-key values joined with <c>.</c> as key (the topic for tables
/// without a known key), the topic as the sink picks it (<c>schema.table</c> by default, a transform's destination wins).
/// Writes the same bytes as <see cref="PrensioCdcEvent.Write"/>, with the texts that repeat from event to event (schema,
/// table, action, pipeline, topic) encoded once, and an integer key formatted straight into UTF-8. Not thread-safe.
/// </summary>
internal sealed class PrensioMessage(string pipeline, TopicNames topics)
{
    private static readonly JsonEncodedText Insert = Encode("insert"), Update = Encode("update"), Delete = Encode("delete");

    // Property names encoded once: written without the escaping check a raw name gets each time.
    private static readonly JsonEncodedText SchemaName = Encode("schema"), TableName = Encode("table"), ActionName = Encode("action"),
        BeforeName = Encode("before"), AfterName = Encode("after"), MetaName = Encode("meta"), TimestampName = Encode("timestamp"),
        PipelineName = Encode("pipeline"), KafkaName = Encode("kafka"), TopicName = Encode("topic"), KeyName = Encode("key");

    private readonly JsonEncodedText _pipeline = Encode(pipeline);
    private readonly Texts _database = new(), _table = new(), _topicText = new();
    private string? _topic;
    private ChangeEvent? _for;
    private byte[] _keyBytes = new byte[64];
    private int _keyLength;

    /// <summary>The key as UTF-8 text, in the message's own buffer (valid until the next event).</summary>
    public ReadOnlySpan<byte> Key(ChangeEvent e)
    {
        For(e);
        return _keyBytes.AsSpan(0, _keyLength);
    }

    /// <summary>Writes the <c>cdc_event</c> JSON of <paramref name="e"/> (the bytes <see cref="PrensioCdcEvent.Write"/> writes).</summary>
    public void WriteValue(Utf8JsonWriter w, ChangeEvent e)
    {
        For(e);
        w.WriteStartObject();
        w.WriteString(SchemaName, _database.Of(e.Database));
        w.WriteString(TableName, _table.Of(e.Table));
        w.WriteString(ActionName, e.Op switch { ChangeOperation.Update => Update, ChangeOperation.Delete => Delete, _ => Insert });
        w.WritePropertyName(BeforeName);
        WriteRows(w, e.Before, e.Schema);
        w.WritePropertyName(AfterName);
        WriteRows(w, e.After, e.Schema);
        w.WriteStartObject(MetaName);
        w.WriteNumber(TimestampName, PrensioCdcEvent.Microseconds(e.Timestamp));
        w.WriteString(PipelineName, _pipeline);
        w.WriteEndObject();
        w.WriteStartObject(KafkaName);
        w.WriteString(TopicName, _topicText.Of(_topic!));
        w.WriteString(KeyName, _keyBytes.AsSpan(0, _keyLength));
        w.WriteEndObject();
        PrensioCdcEvent.WriteExtras(w, e);
        w.WriteEndObject();
    }

    private static void WriteRows(Utf8JsonWriter w, Row? row, TableInfo? schema)
    {
        if (row is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartArray();
        ChangeEventJson.WriteRow(w, row, schema);
        w.WriteEndArray();
    }

    // Key and value of one event are asked for one after the other: the topic and key are worked out once per event.
    private void For(ChangeEvent e)
    {
        if (ReferenceEquals(e, _for)) return;
        _for = e;
        _topic = topics.For(e);
        if (e.Key is null && IntegerKey(e) is { } id)
        {
            Utf8Formatter.TryFormat(id, _keyBytes, out _keyLength); // (64 bytes hold any long)
            return;
        }
        var text = e.Key ?? PrensioCdcEvent.Key(e, _topic);
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (most > _keyBytes.Length) _keyBytes = new byte[Math.Max(most, _keyBytes.Length * 2)];
        _keyLength = Encoding.UTF8.GetBytes(text, _keyBytes);
    }

    /// <summary>The key of a one-column integer primary key (the text <see cref="PrensioCdcEvent.Key"/> gives it); null otherwise.</summary>
    private static long? IntegerKey(ChangeEvent e)
    {
        var row = e.Op is ChangeOperation.Insert or ChangeOperation.Read ? e.After : e.Before ?? e.After;
        if (e.Schema is not { PrimaryKey.Count: 1 } schema || row is null) return null;
        return row[schema.PrimaryKey[0]] switch { long l => l, int i => i, _ => null };
    }

    private static JsonEncodedText Encode(string s) => JsonEncodedText.Encode(s, ChangeEventJson.WriterOptions.Encoder);

    /// <summary>The encoded form of the last text asked for (events of one table come in runs).</summary>
    private sealed class Texts
    {
        private string? _last;
        private JsonEncodedText _encoded;

        public JsonEncodedText Of(string s)
        {
            if (!ReferenceEquals(s, _last) && !string.Equals(s, _last, StringComparison.Ordinal)) _encoded = Encode(s);
            _last = s;
            return _encoded;
        }
    }
}
