namespace PluginHost.Plugins.Webhook;

/// <summary>
/// The acknowledgement of one batch the host handed over: completes when each of its deliveries (one per event and
/// task) got a 2xx or was dead-lettered. Fails when the sink breaks, is cancelled when it is disposed first.
/// </summary>
internal sealed class BatchAcknowledgement(int deliveries)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _left = deliveries;

    public Task Task => _done.Task;

    /// <summary>Adds deliveries before the batch is fully queued (the count is known only after routing).</summary>
    public void Add(int n) => Interlocked.Add(ref _left, n);

    /// <summary>One delivery is done; the last one completes the batch.</summary>
    public bool Done()
    {
        if (Interlocked.Decrement(ref _left) != 0) return false;
        _done.TrySetResult();
        return true;
    }

    public void Fail(Exception e) => _done.TrySetException(e);

    public void Cancel() => _done.TrySetCanceled();
}
