using System.Diagnostics.Metrics;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Counters of one webhook sink. Also published as <see cref="System.Diagnostics.Metrics"/> instruments of the meter
/// <c>PluginHost.Webhook</c> (tag <c>pipeline</c>): <c>webhook.events.delivered</c>, <c>webhook.events.dead_lettered</c>,
/// <c>webhook.events.unrouted</c>, <c>webhook.requests</c>, <c>webhook.requests.failed</c>, <c>webhook.retries</c>,
/// <c>webhook.request.duration</c> (ms).
/// </summary>
public sealed class WebhookStats
{
    internal static readonly Meter Meter = new("PluginHost.Webhook", "1.0");
    private static readonly Counter<long> DeliveredCounter = Meter.CreateCounter<long>("webhook.events.delivered", "{event}", "events acknowledged with a 2xx");
    private static readonly Counter<long> DeadLetteredCounter = Meter.CreateCounter<long>("webhook.events.dead_lettered", "{event}", "events written to the dead-letter file");
    private static readonly Counter<long> UnroutedCounter = Meter.CreateCounter<long>("webhook.events.unrouted", "{event}", "events no task takes (acknowledged without sending)");
    private static readonly Counter<long> RequestsCounter = Meter.CreateCounter<long>("webhook.requests", "{request}", "requests sent");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("webhook.requests.failed", "{request}", "requests without a 2xx");
    private static readonly Counter<long> RetriesCounter = Meter.CreateCounter<long>("webhook.retries", "{request}", "requests repeated after a failure");
    private static readonly Histogram<double> DurationHistogram = Meter.CreateHistogram<double>("webhook.request.duration", "ms", "request time");

    private readonly KeyValuePair<string, object?> _tag;
    private long _delivered, _deadLettered, _unrouted, _requests, _failed, _retries;

    public WebhookStats(string pipeline) => _tag = new KeyValuePair<string, object?>("pipeline", pipeline);

    /// <summary>Events a receiver acknowledged with a 2xx (once per task).</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Events written to the dead-letter file (once per task).</summary>
    public long DeadLettered => Volatile.Read(ref _deadLettered);

    /// <summary>Events no task takes; acknowledged without a request.</summary>
    public long Unrouted => Volatile.Read(ref _unrouted);

    public long Requests => Volatile.Read(ref _requests);
    public long FailedRequests => Volatile.Read(ref _failed);
    public long Retries => Volatile.Read(ref _retries);

    internal void AddDelivered(int n) { Interlocked.Add(ref _delivered, n); DeliveredCounter.Add(n, _tag); }
    internal void AddDeadLettered(int n) { Interlocked.Add(ref _deadLettered, n); DeadLetteredCounter.Add(n, _tag); }
    internal void AddUnrouted(int n) { Interlocked.Add(ref _unrouted, n); UnroutedCounter.Add(n, _tag); }
    internal void AddRetry() { Interlocked.Increment(ref _retries); RetriesCounter.Add(1, _tag); }

    internal void AddRequest(bool ok, double ms)
    {
        Interlocked.Increment(ref _requests);
        RequestsCounter.Add(1, _tag);
        if (!ok)
        {
            Interlocked.Increment(ref _failed);
            FailedCounter.Add(1, _tag);
        }
        DurationHistogram.Record(ms, _tag);
    }

    public override string ToString() =>
        $"delivered {Delivered}, dead-lettered {DeadLettered}, unrouted {Unrouted}, requests {Requests} ({FailedRequests} failed, {Retries} retries)";
}
