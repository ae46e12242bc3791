using System.Runtime.CompilerServices;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>The pipelines as the plugin layer sees them (<see cref="ISinkVersionConsumers"/>): their engines' sinks and transform versions.</summary>
internal sealed partial class PipelineManager : ISinkVersionConsumers
{
    // Plugin reloads and retirement: one consumer per engine, so the plugin layer's swap bookkeeping follows the engine.
    private readonly ConditionalWeakTable<PipelineRunner, EngineSink> _engineSinks = new();

    IReadOnlyList<ISinkVersionConsumer> ISinkVersionConsumers.SinkConsumers()
    {
        var consumers = new List<ISinkVersionConsumer>();
        foreach (var service in Pipelines)
            if (service.Runner is { } runner)
                consumers.Add(_engineSinks.GetValue(runner, r => new EngineSink(this, service, r)));
        return consumers;
    }

    (string Pipeline, string Version)? ISinkVersionConsumers.TransformUsing(HelperAssembly helper)
    {
        foreach (var service in Pipelines)
            if (service.Scripts?.VersionsUsing(helper) is [var version, ..])
                return (service.Definition.Name, version);
        return null;
    }

    /// <summary>One engine's sink: swapped through its runner, created with the pipeline's settings and the configuration in force.</summary>
    private sealed class EngineSink(PipelineManager manager, PipelineService service, PipelineRunner runner) : ISinkVersionConsumer
    {
        public string Pipeline => service.Definition.Name;
        public string SinkType => service.Definition.SinkType;
        public ISink Sink => runner.Sink;
        public Task Ended => service.ExecuteTask ?? Task.CompletedTask;
        public Task SwapSinkAsync(ISink next) => runner.SwapSinkAsync(next);

        public ISink CreateSink(ISinkFactory factory)
        {
            var definition = service.Definition;
            var logger = new PluginLogger(manager._loggers.CreateLogger($"PluginHost.Sink.{definition.SinkType}"), definition);
            return factory.Create(ApiPaths.SinkContext(definition, manager.Config, logger));
        }
    }
}
