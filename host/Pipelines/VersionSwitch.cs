using Microsoft.Extensions.Logging;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// The transform and sink versions a pipeline's writer uses, and the ones handed over to replace them (script watcher,
/// plugin reload, API). The transform stage switches transforms (<see cref="SwitchTransform"/>) and the writer sinks
/// (<see cref="SinkWaiting"/>, <see cref="SwitchAsync"/>), each only at transaction boundaries: no event is seen by two
/// versions, and none by no version.
/// </summary>
internal sealed class VersionSwitch
{
    private readonly string _pipeline;
    private readonly PipelineStatus _status;
    private readonly ILogger _logger;

    // Handed over by other threads, taken by the writer at a transaction boundary.
    private PendingSinkSwap? _pendingSink;
    private StrongBox<IEventTransform?>? _pendingTransform;
    private TaskCompletionSource _wake = NewSignal();

    // The writer's; the sink is also read by others (health, the API).
    private ISink _sink;

    public VersionSwitch(string pipeline, ISink sink, IEventTransform? transform, PipelineStatus status, ILogger logger)
    {
        _pipeline = pipeline;
        _status = status;
        _logger = logger;
        _sink = sink;
        StartWith(transform);
    }

    /// <summary>The sink in use.</summary>
    public ISink Sink => Volatile.Read(ref _sink);

    /// <summary>The transform in use (null: none): the transform stage's (the writer reads only its kind).</summary>
    public IEventTransform? Transform
    {
        get => Volatile.Read(ref _transform);
        private set => Volatile.Write(ref _transform, value);
    }

    private IEventTransform? _transform;

    /// <summary>Completes at the next hand-over; read it before looking for work.</summary>
    public Task Handed => Volatile.Read(ref _wake).Task;

    /// <summary>
    /// Hands over a new sink; the task completes when it is live (cancelled if a newer one replaces it or the pipeline
    /// stops first; a replaced sink is disposed).
    /// </summary>
    public async Task OfferSinkAsync(ISink next)
    {
        var swap = new PendingSinkSwap(next);
        if (Interlocked.Exchange(ref _pendingSink, swap) is { } superseded)
        {
            await superseded.Sink.DisposeAsync().ConfigureAwait(false);
            superseded.Done.TrySetCanceled();
        }
        Wake();
        await swap.Done.Task.ConfigureAwait(false);
    }

    /// <summary>Hands over a new transform version (null: none).</summary>
    public void OfferTransform(IEventTransform? next)
    {
        Volatile.Write(ref _pendingTransform, new StrongBox<IEventTransform?>(next));
        Wake();
    }

    /// <summary>The first transform, before any event (it may have compiled while the runner started).</summary>
    public void StartWith(IEventTransform? transform)
    {
        Transform = transform;
        _status.TransformVersion = transform?.Version;
    }

    /// <summary>At a transaction end inside a batch (the writer): true when a new sink waits (cut the batch here).</summary>
    public bool SinkWaiting => Volatile.Read(ref _pendingSink) != null;

    /// <summary>
    /// At a transaction boundary with nothing else handed to the sink (the writer): a pending sink goes live once the
    /// old one has acknowledged (<paramref name="ledger"/> empty) and flushed (<paramref name="flush"/>) everything it
    /// was given. Transforms are switched by the transform stage (<see cref="SwitchTransform"/>).
    /// </summary>
    public async Task SwitchAsync(InFlightLedger ledger, Func<ISink, CancellationToken, Task> flush, CancellationToken ct)
    {
        if (Volatile.Read(ref _pendingSink) is null) return;
        await ledger.WaitUntilEmptyAsync(ct).ConfigureAwait(false);
        await flush(_sink, ct).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _pendingSink, null) is not { } next) return;
        var old = _sink;
        // The old sink stays the pipeline's until its disposal is done: the plugin layer unloads a retired version's
        // context once no pipeline shows a sink of it, and that must not happen while the sink's DisposeAsync runs.
        try
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.OldSinkDisposeFailed(_pipeline, e.Message);
        }
        Volatile.Write(ref _sink, next.Sink);
        next.Done.TrySetResult();
        _logger.SwitchedSink(_pipeline);
    }

    /// <summary>The pipeline stopped: a sink still waiting is disposed and its hand-over cancelled.</summary>
    public async Task CancelPendingSinkAsync()
    {
        if (Interlocked.Exchange(ref _pendingSink, null) is not { } pending) return;
        await pending.Sink.DisposeAsync().ConfigureAwait(false);
        pending.Done.TrySetCanceled();
    }

    /// <summary>
    /// At a transaction boundary of the transform stage (the only thread that calls <see cref="Transform"/>'s
    /// versions): a pending transform goes live, so the events after the boundary see it and none before.
    /// </summary>
    public void SwitchTransform()
    {
        if (Interlocked.Exchange(ref _pendingTransform, null) is not { } t) return;
        Transform = t.Value;
        _status.TransformVersion = t.Value?.Version;
        _logger.TransformVersionLive(_pipeline, t.Value?.Version ?? "(none)");
    }

    private void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class PendingSinkSwap(ISink sink)
    {
        public ISink Sink { get; } = sink;
        public TaskCompletionSource Done { get; } = NewSignal();
    }
}
