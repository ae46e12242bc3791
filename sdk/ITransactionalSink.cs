namespace PluginHost.Sdk;

/// <summary>
/// A sink that commits a pipeline's checkpoint in the same transaction as the events it covers (exactly once: the
/// Kafka sink with <c>exactly_once: true</c>). Before the first batch of each run the host offers it the pipeline's
/// checkpoint store with <see cref="JoinCheckpoints"/>; when the sink takes it, the host hands every batch through
/// <see cref="SendAsync(IReadOnlyList{ChangeEvent}, CheckpointState?, int, CancellationToken)"/> with the checkpoint
/// of its last transaction end, and the store's own saves only confirm what the sink committed. Sinks that do not
/// implement this are unchanged.
/// </summary>
public interface ITransactionalSink : IAcknowledgingSink
{
    /// <summary>
    /// Offers the pipeline's checkpoint store (a plugin's <see cref="ICheckpointBackend"/>) and a guard asked before
    /// each commit (a refusal reason, or null: cluster mode refuses on a node that may no longer write for the
    /// pipeline). Returns true when the sink writes the checkpoints from now on; false leaves the plain protocol.
    /// Throws <see cref="SinkConfigurationException"/> when the sink needs the store and cannot use this one.
    /// </summary>
    bool JoinCheckpoints(ICheckpointBackend backend, Func<string?> mayWrite);

    /// <summary>
    /// Like <see cref="IAcknowledgingSink.SendAsync"/>, plus <paramref name="checkpoint"/>: the pipeline's checkpoint
    /// once the first <paramref name="eventsBeforeCheckpoint"/> events of the batch (and all before them) are delivered;
    /// null when the batch ends inside a transaction. The batch may be empty (a transaction end only). The returned task
    /// completes when the checkpoint (when given) is committed together with the events before it.
    /// </summary>
    ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CheckpointState? checkpoint, int eventsBeforeCheckpoint, CancellationToken cancellationToken);
}
