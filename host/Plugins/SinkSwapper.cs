using Microsoft.Extensions.Logging;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// Hands new sink versions to one running pipeline, one at a time. <see cref="ISinkVersionConsumer.SwapSinkAsync"/> takes a
/// sink that becomes live at the pipeline's next transaction boundary (the old one flushed, acknowledged and
/// disposed first). A pipeline that sees no transaction keeps its swap pending, so a newer version arriving meanwhile
/// is queued here (replacing, and disposing, any older queued one that was never handed over) and handed over right
/// after the pending one lands. When the pipeline ends first, sinks that never went live are disposed here.
/// </summary>
internal sealed class SinkSwapper
{
    // Set at construction: the pipeline engine, and what to call once a sink was taken or disposed.
    private readonly ISinkVersionConsumer _pipeline;
    private readonly ILogger _logger;
    private readonly Action _settled;

    // Reloads and swap/dispose completions, under _gate: the sink handed over, the one queued behind it, those being disposed.
    private readonly object _gate = new();
    private ISink? _inFlight;
    private ISink? _queued;
    private readonly List<ISink> _disposing = [];

    public SinkSwapper(ISinkVersionConsumer pipeline, ILogger logger, Action settled)
    {
        _pipeline = pipeline;
        _logger = logger;
        _settled = settled;
    }

    /// <summary>The sinks besides the live one that this swapper still holds: handed over, queued, being disposed.</summary>
    public IReadOnlyList<ISink> PendingSinks()
    {
        lock (_gate)
        {
            var list = new List<ISink>(2);
            if (_inFlight != null) list.Add(_inFlight);
            if (_queued != null) list.Add(_queued);
            list.AddRange(_disposing);
            return list;
        }
    }

    /// <summary>True while a sink is handed over or queued.</summary>
    public bool Busy
    {
        get { lock (_gate) return _inFlight != null || _queued != null; }
    }

    /// <summary>
    /// Swaps in a sink from <paramref name="create"/> when nothing is handed over or queued and the live sink is
    /// <paramref name="stale"/> (from a retired plugin version). Returns whether it did. The live sink is read only
    /// once no swap is in flight: read before, it could be the sink a hand-over is replacing that very moment, and
    /// the pipeline would switch twice to the same version. Callers serialize with <see cref="Swap"/> (the plugin
    /// manager's gate), so nothing else issues a swap in between.
    /// </summary>
    public bool SwapIfStale(Func<ISink, bool> stale, Func<ISink> create)
    {
        if (Busy || !stale(_pipeline.Sink)) return false;
        Swap(create());
        return true;
    }

    /// <summary>Makes <paramref name="next"/> this pipeline's sink from its next transaction boundary on (or after the pending swap).</summary>
    public void Swap(ISink next)
    {
        ISink? superseded = null;
        lock (_gate)
        {
            if (_inFlight is null)
            {
                _inFlight = next;
                Issue(next);
            }
            else
            {
                superseded = _queued;
                _queued = next;
            }
        }
        if (superseded != null) DisposeQuietly(superseded, "superseded before it went live");
    }

    private void Issue(ISink sink)
    {
        var swapped = _pipeline.SwapSinkAsync(sink);
        var ended = _pipeline.Ended;
        _ = Task.WhenAny(swapped, ended).ContinueWith(_ => OnIssuedDone(sink, swapped), TaskScheduler.Default);
    }

    private void OnIssuedDone(ISink sink, Task swapped)
    {
        var toDispose = new List<ISink>();
        lock (_gate)
        {
            if (swapped.IsCompletedSuccessfully)
            {
                _inFlight = null;
                if (_queued != null)
                {
                    _inFlight = _queued;
                    _queued = null;
                    Issue(_inFlight);
                }
            }
            else
            {
                // The pipeline ended before its next boundary: the runner never took this sink (nor will it). A
                // cancelled swap was disposed by the runner itself; one still pending when the pipeline ended is ours.
                if (!swapped.IsCanceled && !swapped.IsFaulted && !ReferenceEquals(_pipeline.Sink, sink)) toDispose.Add(sink);
                if (_queued != null) toDispose.Add(_queued);
                _inFlight = _queued = null;
            }
        }
        foreach (var s in toDispose) DisposeQuietly(s, "its pipeline stopped before switching");
        _settled();
    }

    private void DisposeQuietly(ISink sink, string why)
    {
        lock (_gate) _disposing.Add(sink);
        _ = Task.Run(async () =>
        {
            try
            {
                await sink.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.SinkDisposeFailed(_pipeline.Pipeline, why, e.Message);
            }
            finally
            {
                lock (_gate) _disposing.Remove(sink);
                _settled();
            }
        });
    }
}
