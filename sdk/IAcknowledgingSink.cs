namespace PluginHost.Sdk;

/// <summary>
/// A sink that acknowledges each batch on its own, so the host keeps handing it events while earlier ones are still
/// owed (one slow or failing destination then holds back only its own events, up to the pipeline's in-flight budget).
/// The host saves as checkpoint the end of the last transaction all of whose events were acknowledged, so a crash
/// repeats at most what was in flight and never loses anything. A sink that implements only <see cref="ISink"/> keeps
/// the plain protocol: <see cref="ISink.FlushAsync"/> at each transaction end, before the checkpoint moves.
/// </summary>
public interface IAcknowledgingSink : ISink
{
    /// <summary>
    /// Takes a batch (in commit order, one call at a time, like <see cref="ISink.WriteAsync"/>). The call returns once
    /// the sink has accepted the batch; it may wait while the sink's own buffers are full. The returned task completes
    /// when every event of the batch is delivered or dead-lettered — batches may complete in any order — and faults
    /// when the sink gives up on one: the host then starts over from its checkpoint.
    /// </summary>
    ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken);
}
