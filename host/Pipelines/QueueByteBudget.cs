namespace PluginHost.Pipelines;

/// <summary>
/// Bounds the estimated memory of the rows waiting between the binlog reader and the sink. The reader takes bytes
/// before handing a chunk on and waits while the queue is full; the writer gives them back once it has turned the
/// chunk into events. A chunk larger than the whole budget is still let through when the queue is empty, so one huge
/// row never deadlocks the pipeline. One reader and one writer (the pipeline's), so one waiter at most.
/// </summary>
internal sealed class QueueByteBudget(long limit, Action<long>? changed = null)
{
    private readonly object _gate = new();
    private long _used;
    private TaskCompletionSource? _released;

    public long Limit { get; } = limit;

    /// <summary>Bytes taken by queued chunks now.</summary>
    public long Used
    {
        get { lock (_gate) return _used; }
    }

    /// <summary>Takes <paramref name="bytes"/>, waiting while they do not fit (unless nothing is queued).</summary>
    public async ValueTask TakeAsync(long bytes, CancellationToken ct)
    {
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (_used == 0 || _used + bytes <= Limit)
                {
                    _used += bytes;
                    changed?.Invoke(_used);
                    return;
                }
                _released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                released = _released.Task;
            }
            await released.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Gives back what a consumed chunk took.</summary>
    public void Give(long bytes)
    {
        TaskCompletionSource? released;
        lock (_gate)
        {
            _used = Math.Max(0, _used - bytes);
            changed?.Invoke(_used);
            released = _released;
            _released = null;
        }
        released?.TrySetResult();
    }
}
