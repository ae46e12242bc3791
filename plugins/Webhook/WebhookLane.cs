using System.Buffers;
using System.Threading.Channels;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// What a lane carries: a delivery (an event for the lane's task), or — for an update that moves a row to another lane
/// by changing its primary key — the old key's side of that <see cref="KeyChange"/>.
/// </summary>
internal readonly record struct LaneItem(ChangeEvent? Event, BatchAcknowledgement? Ack, KeyChange? KeyChange)
{
    /// <summary>The old key's side of a key change: it holds the old key's lane until the moved row is delivered.</summary>
    public bool IsMarker => Event is null;
}

/// <summary>
/// An update that changes a row's primary key onto another lane. Its delivery waits on the new key's lane until the
/// old key's lane has delivered everything queued before it; the old key's lane then waits until it was delivered, so
/// the row's later events on the old key cannot overtake it. Neither wait blocks the writer or any other lane.
/// </summary>
internal sealed class KeyChange
{
    public TaskCompletionSource OldLaneDrained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// One ordered delivery queue of a task and the loop that drains it: requests one after another, so the events of a
/// row arrive in commit order, also while one is retried. The queue is unbounded here; the host's in-flight budget
/// bounds what a pipeline hands over and has not had acknowledged.
/// </summary>
internal sealed class WebhookLane
{
    private readonly WebhookSink _sink;
    private readonly WebhookTarget _target;
    private readonly int _index;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Channel<LaneItem> _queue = Channel.CreateUnbounded<LaneItem>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    public WebhookLane(WebhookSink sink, WebhookTarget target, int index)
    {
        _sink = sink;
        _target = target;
        _index = index;
        Loop = Task.Run(RunAsync);
    }

    public Task Loop { get; }

    /// <summary>Queues an item (the writer's thread only).</summary>
    public void Enqueue(LaneItem item)
    {
        if (!item.IsMarker) _target.Queued();
        if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(WebhookSink));
    }

    public void Complete() => _queue.Writer.TryComplete();

    private void Finished(LaneItem d)
    {
        _target.Finished();
        _sink.Done(d.Ack);
        d.KeyChange?.Delivered.TrySetResult();
    }

    private async Task RunAsync()
    {
        var stop = _sink.Stopping;
        var batchSize = _sink.Settings.Options.BatchSize;
        var drain = batchSize == 1 ? 256 : batchSize * 4;
        var items = new List<LaneItem>(drain);
        var run = new List<LaneItem>(batchSize);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                items.Clear();
                while (items.Count < drain && reader.TryRead(out var d)) items.Add(d);
                foreach (var item in items)
                {
                    if (item.IsMarker)
                    {
                        // The old key's lane: everything before the key change is delivered; hold until the moved row is.
                        await SendRunAsync(run, stop).ConfigureAwait(false);
                        item.KeyChange!.OldLaneDrained.TrySetResult();
                        await item.KeyChange.Delivered.Task.WaitAsync(stop).ConfigureAwait(false);
                        continue;
                    }
                    if (item.KeyChange != null)
                    {
                        // The moved row: only once the old key's lane delivered what preceded it.
                        await SendRunAsync(run, stop).ConfigureAwait(false);
                        await item.KeyChange.OldLaneDrained.Task.WaitAsync(stop).ConfigureAwait(false);
                    }
                    run.Add(item);
                    if (run.Count >= batchSize) await SendRunAsync(run, stop).ConfigureAwait(false);
                }
                await SendRunAsync(run, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (ObjectDisposedException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            // A bug, not a delivery failure (those are retried below): make it visible instead of hanging a flush.
            _sink.Break(e, $"webhook lane {_index} of task {_target.Route.DisplayId} stopped: {e.Message}");
        }
    }

    /// <summary>Sends the deliveries gathered so far (one request, or one per event with batch_size 1) and clears them.</summary>
    private async Task SendRunAsync(List<LaneItem> run, CancellationToken stop)
    {
        if (run.Count == 0) return;
        if (run.Count == 1) await DeliverAsync([run[0].Event!], stop).ConfigureAwait(false);
        else
        {
            var events = new ChangeEvent[run.Count];
            for (var i = 0; i < events.Length; i++) events[i] = run[i].Event!;
            await DeliverAsync(events, stop).ConfigureAwait(false);
        }
        foreach (var d in run) Finished(d);
        run.Clear();
    }

    /// <summary>Sends one request until it gets a 2xx or is dead-lettered; retries hold the lane (row order).</summary>
    private async Task DeliverAsync(IReadOnlyList<ChangeEvent> events, CancellationToken stop)
    {
        var sink = _sink;
        var route = _target.Route;
        var settings = sink.Settings;
        byte[]? body = null;
        string? id = null;
        var holding = false;
        var warned = false;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                AttemptResult result;
                var recovered = _target.Recovered; // (taken before the attempt: a success meanwhile wakes the backoff below)
                if (body is null)
                {
                    try
                    {
                        _buffer.ResetWrittenCount();
                        WebhookPayload.Write(_buffer, events, settings.Format, asArray: settings.Options.BatchSize > 1);
                        body = _buffer.WrittenSpan.ToArray();
                        id = WebhookSink.MessageId(route, events, body);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        body = null;
                        result = new AttemptResult(false, true, 0, "cannot serialise the event: " + e.Message, null);
                        goto failed;
                    }
                }
                result = await sink.SendAsync(route, body, id!, stop).ConfigureAwait(false);
                if (result.Success)
                {
                    _target.Succeeded();
                    sink.Stats.AddDelivered(route, events.Count);
                    if (warned)
                        sink.Logger.Info($"webhook {route.DisplayId}: delivered to {route.DisplayUrl} after {attempt} attempts");
                    return;
                }
                _target.Failed(result.Error);
                failed:
                var exhausted = sink.Policy.Exhausted(attempt, result.Permanent);
                if (exhausted && sink.DeadLetter is { } dlq)
                {
                    try
                    {
                        dlq.Write(events, route, result.Status, result.Error, attempt);
                        sink.Stats.AddDeadLettered(route, events.Count);
                        sink.Logger.Warning($"webhook {route.DisplayId}: {events.Count} event(s) dead-lettered to {dlq.FilePath} after {attempt} attempt(s): {result.Error}");
                        return;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        sink.Logger.Error($"webhook {route.DisplayId}: cannot write the dead-letter file {dlq.FilePath}: {e.Message}; retrying", e);
                    }
                }
                if (exhausted && !holding)
                {
                    holding = true;
                    sink.Holding(1);
                    if (sink.DeadLetter is null)
                        sink.Logger.Error($"webhook {route.DisplayId}: {(result.Permanent ? "permanent failure" : $"{attempt} attempts failed")} ({result.Error}) " +
                                          $"and no dead_letter file is set: holding {events.Count} event(s) on lane {_index} and retrying until {route.DisplayUrl} accepts them");
                }
                var delay = sink.Policy.Delay(attempt, result.RetryAfter);
                if (route.ShouldLog(out var suppressed))
                {
                    warned = true;
                    sink.Logger.Warning($"webhook {route.DisplayId}: {route.DisplayUrl} failed (attempt {attempt}): {result.Error}; retrying in {delay.TotalMilliseconds:0} ms" +
                                        (suppressed > 0 ? $" ({suppressed} more failure(s) of this task since the last message)" : ""));
                }
                sink.Stats.AddRetry(route);
                // The backoff ends early when another lane of this task gets through (the receiver is back), or when it
                // is this lane's turn to probe — unless the receiver asked for this wait itself (Retry-After).
                if (result.RetryAfter != null) await Task.Delay(delay, stop).ConfigureAwait(false);
                else await _target.BackoffAsync(recovered, delay, stop).ConfigureAwait(false);
            }
        }
        finally
        {
            if (holding) sink.Holding(-1);
        }
    }
}
