using Confluent.Kafka;

namespace PluginHost.Plugins.Kafka;

/// <summary>Reads a small state topic's partition from its low to its high watermark (checkpoints, prensio's state).</summary>
internal static class KafkaPartitionScan
{
    /// <summary>
    /// How many partitions <paramref name="topic"/> has (one metadata call on the consumer's own connection); null when
    /// the topic does not exist yet.
    /// </summary>
    public static int? PartitionCount(IConsumer<byte[]?, byte[]?> consumer, string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout);
        var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
        if (t is null || t.Error.Code == ErrorCode.UnknownTopicOrPart || t.Partitions.Count == 0 && !t.Error.IsError) return null;
        if (t.Error.IsError) throw new KafkaException(t.Error);
        return t.Partitions.Count;
    }

    /// <summary>
    /// Hands every record of <paramref name="tp"/> present when the scan starts to <paramref name="each"/>, oldest
    /// first; fails with <c>Local_TimedOut</c> at <paramref name="deadline"/>.
    /// </summary>
    public static void ReadToEnd(IConsumer<byte[]?, byte[]?> consumer, TopicPartition tp, DateTime deadline, TimeSpan timeout,
        CancellationToken cancellationToken, Action<ConsumeResult<byte[]?, byte[]?>> each)
    {
        var marks = consumer.QueryWatermarkOffsets(tp, timeout);
        if (marks.High.Value <= marks.Low.Value) return;
        consumer.Assign(new TopicPartitionOffset(tp, marks.Low));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"reading {tp} up to offset {marks.High.Value} took longer than {timeout.TotalSeconds:0} s"));
            var r = consumer.Consume(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500));
            if (r is null) continue;
            if (r.IsPartitionEOF)
            {
                if (r.Offset.Value >= marks.High.Value) return;
                continue;
            }
            each(r);
            if (r.Offset.Value >= marks.High.Value - 1) return;
        }
    }
}
