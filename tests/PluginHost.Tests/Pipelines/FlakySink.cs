using PluginHost.Sdk;

namespace PluginHost.Tests.Pipelines;

/// <summary>A sink that wraps another and can be told to throw (or be slow), for retry tests.</summary>
internal sealed class FlakySink(ISink inner) : ISink
{
    public volatile bool FailWrites;
    private int FailNextFlushes;
    public TimeSpan WriteDelay;
    public int WriteCalls, FlushCalls, Failures;
    public readonly System.Collections.Concurrent.ConcurrentQueue<string> Calls = new();

    public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref WriteCalls);
        if (WriteDelay > TimeSpan.Zero) await Task.Delay(WriteDelay, cancellationToken);
        Calls.Enqueue($"{DateTime.Now:ss.fff} write [{string.Join(",", batch.Select(e => e.Current?["id"]))}]{(FailWrites ? " FAIL" : "")}");
        if (FailWrites)
        {
            Interlocked.Increment(ref Failures);
            throw new IOException("boom: the sink is down");
        }
        await inner.WriteAsync(batch, cancellationToken);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref FlushCalls);
        bool fail;
        lock (Calls)
        {
            fail = FailNextFlushes > 0;
            if (fail) FailNextFlushes--;
        }
        Calls.Enqueue($"{DateTime.Now:ss.fff} flush{(fail ? " FAIL" : "")}");
        if (fail)
        {
            Interlocked.Increment(ref Failures);
            throw new IOException("boom: flush refused");
        }
        await inner.FlushAsync(cancellationToken);
    }

    /// <summary>Makes the next <paramref name="count"/> flushes throw.</summary>
    public void FailFlushes(int count)
    {
        lock (Calls) FailNextFlushes = count;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
