using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// The plugin layer's view of the pipelines' sinks: the attached <see cref="ISinkVersionConsumers"/> (none until the
/// host attaches its pipelines) and one <see cref="SinkSwapper"/> per engine that was handed a new sink version.
/// </summary>
internal sealed class PipelineSinks(ILogger logger, Action settled)
{
    // Set once while the host is assembled, read by reloads and retirement.
    private volatile ISinkVersionConsumers? _consumers;

    // Reloads and swap completions: the swappers, keyed by engine (they go with it).
    private readonly ConditionalWeakTable<ISinkVersionConsumer, SinkSwapper> _swappers = new();

    /// <summary>Attaches the pipelines (before that, no pipeline uses a plugin's sink).</summary>
    public void Attach(ISinkVersionConsumers consumers) => _consumers = consumers;

    /// <summary>The pipelines whose engine runs now.</summary>
    public IReadOnlyList<ISinkVersionConsumer> Running() =>
        _consumers?.SinkConsumers().Where(c => !c.Ended.IsCompleted).ToList() ?? [];

    /// <summary>Every sink a pipeline holds (live, pending or being disposed), with the pipeline's name.</summary>
    public List<(string Pipeline, ISink Sink)> Users()
    {
        var sinks = new List<(string, ISink)>();
        foreach (var consumer in _consumers?.SinkConsumers() ?? [])
        {
            if (!consumer.Ended.IsCompleted) sinks.Add((consumer.Pipeline, consumer.Sink));
            if (_swappers.TryGetValue(consumer, out var swapper)) sinks.AddRange(swapper.PendingSinks().Select(s => (consumer.Pipeline, s)));
        }
        return sinks;
    }

    /// <summary>A pipeline whose compiled transform version still calls <paramref name="helper"/>, or null.</summary>
    public (string Pipeline, string Version)? TransformUsing(HelperAssembly helper) => _consumers?.TransformUsing(helper);

    /// <summary>The swapper of <paramref name="consumer"/>'s engine.</summary>
    public SinkSwapper SwapperFor(ISinkVersionConsumer consumer) =>
        _swappers.GetValue(consumer, c => new SinkSwapper(c, logger, settled));
}
