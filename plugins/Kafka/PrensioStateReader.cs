using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Reads where go-mysql-kafka (prensio) stopped: its state topic (<c>prensio-NAME-state</c>, one partition) holds
/// records <c>{"gtid","name","timestamp"}</c> keyed by the pipeline name; the last one of <c>name</c> wins (prensio itself
/// read the very last record of partition 0).
/// </summary>
internal static class PrensioStateReader
{
    /// <summary>One state record of prensio.</summary>
    public sealed record State(string Gtid, string Name, long Timestamp, long Offset);

    /// <summary>The last record for <paramref name="name"/>, or null when the topic is missing, empty or has none of it.</summary>
    public static State? ReadLast(IReadOnlyDictionary<string, string> consumerConfig, string topic, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(consumerConfig).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        if (KafkaPartitionScan.PartitionCount(consumer, topic, timeout) is null) return null;
        State? last = null;
        KafkaPartitionScan.ReadToEnd(consumer, new TopicPartition(topic, 0), deadline, timeout, cancellationToken, r =>
        {
            if (r.Message.Value is { Length: > 0 } value && Parse(value, r.Offset.Value) is { } s && s.Name == name && s.Gtid.Length > 0) last = s;
        });
        consumer.Close();
        return last;
    }

    /// <summary>A record's fields; null when it is not prensio's JSON (such records are skipped, as they name no pipeline).</summary>
    public static State? Parse(byte[] value, long offset)
    {
        try
        {
            using var doc = JsonDocument.Parse(value);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var gtid = root.TryGetProperty("gtid", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString()! : "";
            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            var ts = root.TryGetProperty("timestamp", out var t) && t.TryGetInt64(out var v) ? v : 0;
            return new State(gtid.Trim(), name, ts, offset);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The GTID state to resume from after prensio's record. prensio saved the GTID of the transaction it last wrote
    /// (MySQL <c>uuid:N</c>) and resumed from <c>uuid:1-N</c>: the same here. A GTID set (<c>uuid:1-N</c>, several
    /// uuids) or a MariaDB GTID list (<c>0-1-42</c>) is used as it is. Null when the text is neither.
    /// </summary>
    public static string? ResumeGtid(string gtid)
    {
        var text = gtid.Trim();
        if (text.Length == 0) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new StringBuilder();
        foreach (var part in parts)
        {
            if (result.Length > 0) result.Append(',');
            var colon = part.IndexOf(':');
            if (colon < 0)
            {
                // MariaDB: domain-server-sequence
                var dash = part.Split('-');
                if (dash.Length != 3 || !dash.All(d => d.Length > 0 && d.All(char.IsAsciiDigit))) return null;
                result.Append(part);
                continue;
            }
            var uuid = part[..colon];
            if (!Guid.TryParse(uuid, out _)) return null;
            var intervals = part[(colon + 1)..];
            // uuid:N (one transaction) → uuid:1-N; uuid:a-b[:c-d] is already a set.
            if (intervals.All(char.IsAsciiDigit) && intervals.Length > 0) result.Append(uuid).Append(":1-").Append(intervals);
            else if (intervals.Split(':').All(i => i.Split('-') is { Length: 1 or 2 } r && r.All(x => x.Length > 0 && x.All(char.IsAsciiDigit)))) result.Append(part);
            else return null;
        }
        return result.ToString();
    }
}
