using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Tests.Pipelines;

/// <summary>The writer's sink switch at a transaction boundary.</summary>
public sealed class VersionSwitchTests
{
    [Fact]
    public async Task The_old_sink_stays_the_pipeline_s_sink_until_its_disposal_completed()
    {
        // The plugin layer unloads a retired version's context once no pipeline holds a sink of it (the live sink, or
        // one handed over). A CI run saw a context unloaded while its old sink was still being disposed: the new sink
        // was published first, so for the length of the old one's DisposeAsync nothing showed the old one in use.
        var old = new ProbeSink("old");
        var next = new ProbeSink("next");
        var versions = new VersionSwitch("p", old, null, new PipelineStatus("p"), NullLogger.Instance);
        old.OnDispose = () => old.SeenDuringDispose = versions.Sink;

        var live = versions.OfferSinkAsync(next);
        await versions.SwitchAsync(new InFlightLedger(1000, 1 << 20), (_, _) => Task.CompletedTask, CancellationToken.None);
        await live.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(old.Disposed);
        Assert.Same(old, old.SeenDuringDispose);
        Assert.Same(next, versions.Sink);
        Assert.False(next.Disposed);
    }

    private sealed class ProbeSink(string name) : ISink
    {
        public string Name { get; } = name;
        public Action? OnDispose { get; set; }
        public ISink? SeenDuringDispose { get; set; }
        public bool Disposed { get; private set; }
        public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            await Task.Yield();
            OnDispose?.Invoke();
            Disposed = true;
        }

        public override string ToString() => Name;
    }
}
