using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// The pipelines as the plugin layer sees them: which sink each engine holds, how to hand it a new version, which
/// transform versions still call a helper. Owned here, implemented by the pipeline layer and attached to the
/// <see cref="PluginManager"/> when the host is assembled, so Plugins never depends on Pipelines.
/// </summary>
internal interface ISinkVersionConsumers
{
    /// <summary>Every pipeline that has an engine, running or ended (a pipeline without one holds no sink).</summary>
    IReadOnlyList<ISinkVersionConsumer> SinkConsumers();

    /// <summary>A pipeline whose compiled transform version still calls <paramref name="helper"/>, or null when none does.</summary>
    (string Pipeline, string Version)? TransformUsing(HelperAssembly helper);
}

/// <summary>One pipeline engine's sink; the same object for as long as that engine lives.</summary>
internal interface ISinkVersionConsumer
{
    /// <summary>The pipeline's name.</summary>
    string Pipeline { get; }

    /// <summary>Its <c>sink.type</c>.</summary>
    string SinkType { get; }

    /// <summary>The live sink.</summary>
    ISink Sink { get; }

    /// <summary>Completes when the pipeline ends (already complete when it never started).</summary>
    Task Ended { get; }

    /// <summary>Makes <paramref name="next"/> live at the next transaction boundary (the old sink flushed, acknowledged, disposed).</summary>
    Task SwapSinkAsync(ISink next);

    /// <summary>A sink from <paramref name="factory"/> with this pipeline's sink settings, paths and logger.</summary>
    ISink CreateSink(ISinkFactory factory);
}
