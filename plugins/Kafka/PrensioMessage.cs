using System.Text;
using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// <c>format: prensio</c>: the key and value go-mysql-kafka (prensio) produced — the <c>cdc_event</c> JSON
/// (<see cref="PrensioCdcEvent"/>) as value, the primary-key values joined with <c>.</c> as key (the topic for tables
/// without a known key), the topic as the sink picks it (<c>schema.table</c> by default, a transform's destination wins).
/// </summary>
internal sealed class PrensioMessage(string pipeline, TopicNames topics)
{
    private string? _topic;
    private string? _key;
    private ChangeEvent? _for;

    private byte[] _keyBytes = new byte[64];

    /// <summary>The key as UTF-8 text, in the message's own buffer (valid until the next key).</summary>
    public ReadOnlySpan<byte> Key(ChangeEvent e)
    {
        var text = KeyText(e);
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (most > _keyBytes.Length) _keyBytes = new byte[Math.Max(most, _keyBytes.Length * 2)];
        return _keyBytes.AsSpan(0, Encoding.UTF8.GetBytes(text, _keyBytes));
    }

    /// <summary>Writes the <c>cdc_event</c> JSON of <paramref name="e"/>.</summary>
    public void WriteValue(Utf8JsonWriter w, ChangeEvent e) => PrensioCdcEvent.Write(w, e, pipeline, Topic(e), KeyText(e));

    private string KeyText(ChangeEvent e)
    {
        Topic(e);
        return _key ??= e.Key ?? PrensioCdcEvent.Key(e, _topic!);
    }

    // Key and value of one event are asked for one after the other: the topic and key are worked out once per event.
    private string Topic(ChangeEvent e)
    {
        if (!ReferenceEquals(e, _for))
        {
            _for = e;
            _key = null;
            _topic = topics.For(e);
        }
        return _topic!;
    }
}
