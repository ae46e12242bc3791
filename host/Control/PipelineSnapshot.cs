using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>A pipeline with its live status: from <see cref="PipelineManager"/> when it runs there, else its detached status.</summary>
internal sealed record PipelineSnapshot(PipelineEntry Entry, PipelineStatus Status, PipelineRunner? Runner)
{
    public string Name => Entry.Name;

    /// <summary>The state to show: paused, failed (an invalid stored definition), disabled (enabled: false) or the runner's.</summary>
    public PipelineDisplayState State => Entry.Paused ? PipelineDisplayState.Paused
        : Entry.Invalid != null ? PipelineDisplayState.Failed
        : !Entry.Enabled && Runner is null ? PipelineDisplayState.Disabled
        : Status.State == PipelineState.Running && Status.Snapshot is { Active: true } ? PipelineDisplayState.Snapshotting
        : PipelineDisplayStates.Of(Status.State);

    public bool IsFailed => State == PipelineDisplayState.Failed;

    /// <summary>Chunks queued between reader and sink (0 when it does not run: the last reading would be stale).</summary>
    public int QueueDepth => Runner is null ? 0 : Status.QueueDepth;
}
