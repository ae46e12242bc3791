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

    public WebhookTarget(WebhookSink sink, WebhookRoute route, int lanes)
    {
        Route = route;
        Lanes = new WebhookLane[lanes];
        for (var i = 0; i < lanes; i++) Lanes[i] = new WebhookLane(sink, this, i);
    }

    public WebhookRoute Route { get; }
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
            if (_failing) return;
            _failing = true;
            _failingSince = DateTimeOffset.UtcNow;
        }
    }

    public SinkTargetHealth Health()
    {
        lock (_gate) return new SinkTargetHealth(Route.Id, _failing, _lastError, Pending, _failingSince);
    }
}
