using System.Threading.Channels;
using PluginHost.Config;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// The transform stage: a thread of its own between the reader's queue and the writer, so a transform (a JavaScript
/// one above all) runs while the writer hands the previous chunks to the sink. Chunks keep their order and their
/// transaction ends; the transform version switches only at a chunk that ends a transaction.
/// </summary>
internal sealed partial class PipelineRunner
{
    /// <summary>Transformed chunks waiting for the writer: their bytes stay counted in the queue's budget until it takes them.</summary>
    private const int TransformedChunks = 4;

    /// <summary>
    /// Reads the reader's chunks, transforms their events (the version in use, switched at transaction boundaries) and
    /// passes the chunks on in order. Completes <paramref name="output"/> when the input ends, or with the failure
    /// (<c>on_error: stop</c>, a stop) so the writer ends with it after what was passed before; false then.
    /// </summary>
    private async Task<bool> TransformLoopAsync(ChannelReader<EventChunk> input, ChannelWriter<EventChunk> output, CancellationToken ct)
    {
        try
        {
            if (InitialTransform is { } initial && !_initialTransformApplied)
            {
                // The transform compiled while the checkpoint was loaded and the reader connected; no event passes without it.
                IEventTransform? first;
                try
                {
                    first = await initial.WaitAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    output.TryComplete(); // stopped before the transform was ready: nothing passes
                    return true;
                }
                _initialTransformApplied = true;
                _versions.StartWith(first);
                // The reader connected while the script compiled: running now, not at the next event or heartbeat.
                if (_reading && Status.State == PipelineState.Starting) Status.State = PipelineState.Running;
            }
            var atBoundary = true; // everything passed on so far ends at a transaction boundary
            while (true)
            {
                // Wait for chunks; while idle at a boundary, a pending version goes live at once.
                var wake = _versions.Handed;
                if (atBoundary) _versions.SwitchTransform();
                var ready = input.WaitToReadAsync(ct);
                if (!ready.IsCompleted)
                {
                    var readyTask = ready.AsTask();
                    while (!readyTask.IsCompleted)
                    {
                        await Task.WhenAny(readyTask, wake).ConfigureAwait(false);
                        wake = _versions.Handed;
                        if (atBoundary) _versions.SwitchTransform();
                    }
                    ready = new ValueTask<bool>(readyTask);
                }
                if (!await ready.ConfigureAwait(false)) break;
                while (input.TryRead(out var chunk))
                {
                    if (PipelineTrace.Listener is { } trace) PipelineTrace.Stamp(trace, TraceStage.Taken, chunk.Rows); // (benchmarks only)
                    if (_versions.Transform is { } transform) TransformChunk(chunk, transform);
                    await output.WriteAsync(chunk, ct).ConfigureAwait(false);
                    atBoundary = chunk.TransactionEnd != null;
                    if (atBoundary) _versions.SwitchTransform();
                }
            }
            output.TryComplete();
            return true;
        }
        catch (Exception e)
        {
            output.TryComplete(e); // the writer ends with it, after the chunks passed before
            return false;
        }
    }

    /// <summary>The chunk's events through <paramref name="transform"/>, in place (snapshot rows held raw become events first).</summary>
    private void TransformChunk(EventChunk chunk, IEventTransform transform)
    {
        if (chunk.Raw is { } raw)
        {
            raw.AddEvents(chunk.Rows);
            chunk.Raw = null;
            if (PipelineTrace.Listener is { } trace) PipelineTrace.Stamp(trace, TraceStage.Taken, chunk.Rows); // (benchmarks only)
        }
        var rows = chunk.Rows;
        if (rows.Count == 0) return;
        var output = new List<ChangeEvent>(rows.Count);
        var one = _transformed ??= new List<ChangeEvent>(4);
        foreach (var e in rows)
        {
            one.Clear();
            if (Transform(transform, e, one)) output.AddRange(one);
        }
        one.Clear();
        chunk.ReplaceRows(output);
    }

    private bool Transform(IEventTransform transform, ChangeEvent e, List<ChangeEvent> output)
    {
        // The script mutates the event in place: a dead-letter pipeline keeps a copy of it as read (rows and Extra
        // copied, values shared) to write if the script fails half-way. One copy, reused event after event (the
        // dead letter is written at once): no allocation per event.
        ChangeEvent? original = null;
        if (_definition.OnError == OnErrorPolicy.DeadLetter && _deadLetter != null) (original = _deadLetterCopy ??= new ChangeEvent()).CopyFrom(e);
        try
        {
            transform.Apply(e, output);
            if (output.Count == 0) Status.AddDropped(1);
            return output.Count > 0;
        }
        catch (Exception ex)
        {
            switch (_definition.OnError)
            {
                case OnErrorPolicy.Skip:
                    Status.AddSkipped(1);
                    _logger.TransformFailedSkipped(_definition.Name, e.Table, ex.Message);
                    return false;
                case OnErrorPolicy.DeadLetter when _deadLetter != null:
                    output.Clear();
                    _deadLetter.Write(original ?? e, "transform", ex);
                    Status.AddDeadLettered(1);
                    return false;
                default:
                    throw new TransformFailedException($"transform failed on {e.Database}.{e.Table} ({e.Gtid ?? e.File + ":" + e.Position}): {ex.Message}", ex);
            }
        }
    }
}
