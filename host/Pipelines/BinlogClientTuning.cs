using PluginHost.Binlog.Replication;

namespace PluginHost.Pipelines;

/// <summary>
/// Adjusts the binlog client options of the pipelines started from now on (tests shorten heartbeats and reconnect
/// delays). Registered in the host's services when wanted; <see cref="PipelineManager"/> reads it as it starts each pipeline.
/// </summary>
internal sealed class BinlogClientTuning(Func<BinlogClientOptions, BinlogClientOptions>? adjust = null)
{
    /// <summary>The adjustment (null: the options as the definition gives them).</summary>
    public Func<BinlogClientOptions, BinlogClientOptions>? Adjust { get; set; } = adjust;
}
