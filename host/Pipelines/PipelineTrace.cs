using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>A point on an event's way through a pipeline (<see cref="PipelineTrace"/>).</summary>
internal enum TraceStage
{
    /// <summary>The binlog client yielded the event's rows event (socket read and decoded).</summary>
    Read,
    /// <summary>Its chunk was handed to the queue between reader and writer.</summary>
    Queued,
    /// <summary>The transform stage took it off the queue (the writer, for snapshot rows it makes events of).</summary>
    Taken,
    /// <summary>Transformed (or passed through); part of a batch about to be handed to the sink.</summary>
    Transformed,
    /// <summary>The sink's WriteAsync/SendAsync returned for its batch.</summary>
    Written,
    /// <summary>A plain sink's FlushAsync returned (durable) at its transaction end.</summary>
    Flushed,
    /// <summary>The acknowledgement loop saw its batch acknowledged (its checkpoint is queued).</summary>
    Acknowledged,
}

/// <summary>
/// Per-event stage timestamps (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>) for benchmarks that run a
/// pipeline in their own process. Off unless <see cref="Listener"/> is set: the runner then reads one static field per
/// chunk or batch and does nothing more.
/// </summary>
internal static class PipelineTrace
{
    private static Action<TraceStage, ChangeEvent, long>? s_listener;

    /// <summary>Called for every event at every stage, on the pipeline's threads; null (the default) turns tracing off.</summary>
    public static Action<TraceStage, ChangeEvent, long>? Listener
    {
        get => Volatile.Read(ref s_listener);
        set => Volatile.Write(ref s_listener, value);
    }

    /// <summary>Stamps every event of <paramref name="events"/> with <paramref name="stage"/> at one time.</summary>
    internal static void Stamp(Action<TraceStage, ChangeEvent, long> listener, TraceStage stage, IReadOnlyList<ChangeEvent> events, int from = 0)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = from; i < events.Count; i++) listener(stage, events[i], now);
    }
}
