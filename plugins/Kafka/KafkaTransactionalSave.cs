using Confluent.Kafka;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// A checkpoint save in a Kafka transaction of its own (the store's <c>transactional_id</c>). When a newer producer
/// with the same id (the pipeline's new owner) has fenced this one, the save fails and every later one too: this store
/// must never initialise again, which would fence the new owner in turn.
/// </summary>
internal static class KafkaTransactionalSave
{
    public static void Save(KafkaCheckpointBackend store, KafkaCheckpointOptions options, string pipeline, Message<byte[], byte[]?> message)
    {
        if (store.FencedBecause is { } why)
            throw new KafkaSinkException($"cannot save the checkpoint of '{pipeline}': this node was fenced ({why}); another node owns the pipeline now");
        var producer = store.Producer;
        try
        {
            producer.BeginTransaction();
            producer.Produce(options.Topic, message);
            producer.CommitTransaction(options.Timeout);
        }
        catch (KafkaException e) when (IsFenced(e.Error) || e.Error.IsFatal)
        {
            store.FencedBecause = KafkaClients.Describe(e.Error);
            throw new KafkaSinkException($"cannot save the checkpoint of '{pipeline}': fenced by a newer owner of transactional id '{options.TransactionalId}' ({store.FencedBecause})", e);
        }
        catch (KafkaException e)
        {
            if (e is KafkaTxnRequiresAbortException) TryAbort(producer, options);
            throw new KafkaSinkException($"cannot save the checkpoint of '{pipeline}' to Kafka topic '{options.Topic}': {KafkaClients.Describe(e.Error)}", e);
        }
    }

    /// <summary>Whether an error means another producer with the same transactional id took over (any fatal error of a
    /// transactional producer is treated so: replacing the producer would fence the new owner).</summary>
    public static bool IsFenced(Error e) =>
        e.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch or ErrorCode.Local_Fenced || e.IsFatal && e.Reason?.Contains("fenced", StringComparison.OrdinalIgnoreCase) == true;

    private static void TryAbort(IProducer<byte[], byte[]?> producer, KafkaCheckpointOptions options)
    {
        try { producer.AbortTransaction(options.Timeout); }
        catch (KafkaException) { /* the next save begins a new transaction or reports the error */ }
    }
}
