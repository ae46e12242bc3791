using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// One task (receiver) of a webhook sink: its own ordering lanes and its own failure state, so a receiver that fails
/// holds back only its own events. It works as a circuit: the first failure opens it (the task shows as failing), and
/// the first success closes it and wakes every lane of the task that sleeps out a backoff, so recovery is prompt.
/// </summary>
internal sealed class WebhookTarget
{
    private readonly object _gate = new();
    private TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _failing;
    private string? _lastError;
    private DateTimeOffset? _failingSince;
    private long _pending;
    private long _nextProbe; // Environment.TickCount64 from which one waiting lane may probe the failing receiver

    public WebhookTarget(WebhookSink sink, WebhookRoute route, int lanes)
    {
        Route = route;
        var o = sink.Settings.Options;
        ProbeInterval = o.ProbeInterval < o.RetryMaxDelay ? o.ProbeInterval : o.RetryMaxDelay;
        Lanes = new WebhookLane[lanes];
        for (var i = 0; i < lanes; i++) Lanes[i] = new WebhookLane(sink, this, i);
    }

    public WebhookRoute Route { get; }

    /// <summary>While failing, one request every this long, beyond the lanes' own backoff.</summary>
    public TimeSpan ProbeInterval { get; }
    public WebhookLane[] Lanes { get; }

    /// <summary>Deliveries queued for this task and not yet done.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public void Queued() => Interlocked.Increment(ref _pending);

    public void Finished() => Interlocked.Decrement(ref _pending);

    /// <summary>Completes at the next success after a failure (lanes in backoff wait on it).</summary>
    public Task Recovered
    {
        get { lock (_gate) return _recovered.Task; }
    }

    public void Succeeded()
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            if (!_failing) return;
            _failing = false;
            _lastError = null;
            _failingSince = null;
            wake = _recovered;
            _recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    public void Failed(string error)
    {
        lock (_gate)
        {
            _lastError = error;
            _nextProbe = Environment.TickCount64 + (long)ProbeInterval.TotalMilliseconds; // (this attempt was a probe too)
            if (_failing) return;
            _failing = true;
            _failingSince = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>
    /// True for one lane when the probe interval has passed since the task's last attempt: that lane retries now,
    /// instead of sleeping out its own (longer) backoff.
    /// </summary>
    public bool TryClaimProbe()
    {
        var now = Environment.TickCount64;
        lock (_gate)
        {
            if (!_failing || now < _nextProbe) return false;
            _nextProbe = now + (long)ProbeInterval.TotalMilliseconds;
            return true;
        }
    }

    /// <summary>
    /// Sleeps out a lane's backoff of <paramref name="delay"/>, ended early by the task's next success (the circuit
    /// closes) or by this lane's turn to probe.
    /// </summary>
    public async Task BackoffAsync(Task recovered, TimeSpan delay, CancellationToken stop)
    {
        var deadline = Environment.TickCount64 + (long)delay.TotalMilliseconds;
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return;
            try
            {
                await recovered.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, (long)ProbeInterval.TotalMilliseconds)), stop).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException) { }
            if (TryClaimProbe()) return;
        }
    }

    public SinkTargetHealth Health()
    {
        lock (_gate) return new SinkTargetHealth(Route.DisplayId, _failing, _lastError, Pending, _failingSince);
    }
}
