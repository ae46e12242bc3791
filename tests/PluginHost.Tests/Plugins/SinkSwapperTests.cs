using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Tests.Plugins;

/// <summary>The swapper's bookkeeping between a plugin reload and the pipeline's transaction boundary.</summary>
public sealed class SinkSwapperTests
{
    [Fact]
    public void A_retired_sink_being_replaced_at_that_moment_is_not_replaced_a_second_time()
    {
        // A CI run (HotReloadPipelineTests at load 27) saw the same plugin version swapped in twice: the reconciliation
        // after a reload read the live sink (still the old version's), then the pipeline took the pending sink at its
        // boundary, then the reconciliation found no swap in flight and swapped in another sink of the new version.
        var old = new NamedSink("v1");
        var pending = new NamedSink("v2");
        var pipeline = new SwitchingConsumer(old);
        var swapper = new SinkSwapper(pipeline, NullLogger.Instance, () => { });
        swapper.Swap(pending);
        Assert.True(swapper.Busy);
        // The pipeline reaches its boundary exactly when the live sink is read.
        pipeline.OnRead = () => pipeline.Complete(swapper);

        var swapped = swapper.SwapIfStale(sink => ReferenceEquals(sink, old), () => new NamedSink("v2 again"));

        Assert.False(swapped);
        pipeline.Complete(swapper);
        Assert.Same(pending, pipeline.Sink);
        Assert.Equal(["v2"], pipeline.Offered.Select(s => s.Name));
        // Once nothing is in flight, a live sink that is stale is replaced (once).
        Assert.False(swapper.SwapIfStale(sink => ReferenceEquals(sink, old), () => new NamedSink("never")));
        Assert.True(swapper.SwapIfStale(sink => ReferenceEquals(sink, pending), () => new NamedSink("v3")));
        Assert.Equal(["v2", "v3"], pipeline.Offered.Select(s => s.Name));
    }

    private sealed class NamedSink(string name) : ISink
    {
        public string Name { get; } = name;
        public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A pipeline engine whose next boundary the test decides: the offered sink goes live on <see cref="Complete"/>.</summary>
    private sealed class SwitchingConsumer(NamedSink live) : ISinkVersionConsumer
    {
        private NamedSink _live = live;
        private TaskCompletionSource? _swap;
        private NamedSink? _next;
        public List<NamedSink> Offered { get; } = [];
        public Action? OnRead { get; set; }
        public string Pipeline => "p";
        public string SinkType => "named";
        public Task Ended { get; } = new TaskCompletionSource().Task;

        public ISink Sink
        {
            get
            {
                var live = _live;
                var onRead = OnRead;
                OnRead = null;
                onRead?.Invoke();
                return live;
            }
        }

        public Task SwapSinkAsync(ISink next)
        {
            _next = (NamedSink)next;
            Offered.Add(_next);
            _swap = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _swap.Task;
        }

        /// <summary>The boundary: the offered sink goes live, and the swapper has seen it (nothing in flight).</summary>
        public void Complete(SinkSwapper swapper)
        {
            if (_next is null) return;
            _live = _next;
            _next = null;
            _swap!.SetResult();
            SpinWait.SpinUntil(() => !swapper.Busy, TimeSpan.FromSeconds(10));
        }

        public ISink CreateSink(ISinkFactory factory) => throw new NotSupportedException();
    }
}
