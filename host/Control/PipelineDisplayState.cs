using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>The state a pipeline shows (API, health, metrics, log): the runner's, or what the desired set says of it.</summary>
internal enum PipelineDisplayState
{
    Starting,
    Running,
    Degraded,
    Reconnecting,
    Retrying,
    Paused,
    Failed,
    Stopped,
    /// <summary>Not run: <c>enabled: false</c>.</summary>
    Disabled,
    /// <summary>Running, and reading existing rows (a snapshot) while it streams.</summary>
    Snapshotting,
    /// <summary>An <c>initial_only</c> snapshot is done: the pipeline ended.</summary>
    Completed,
}

/// <summary>Conversions of <see cref="PipelineDisplayState"/>.</summary>
internal static class PipelineDisplayStates
{
    private static readonly string[] Texts = Enum.GetValues<PipelineDisplayState>().Select(s => s.ToString().ToLowerInvariant()).ToArray();

    /// <summary>Every state, in declaration order.</summary>
    public static IReadOnlyList<PipelineDisplayState> All { get; } = Enum.GetValues<PipelineDisplayState>();

    /// <summary>The lower-case word the API, metrics and log show (<c>running</c>, <c>paused</c>…).</summary>
    public static string ToText(this PipelineDisplayState state) => Texts[(int)state];

    /// <summary>The runner's state as shown.</summary>
    public static PipelineDisplayState Of(PipelineState state) => state switch
    {
        PipelineState.Starting => PipelineDisplayState.Starting,
        PipelineState.Running => PipelineDisplayState.Running,
        PipelineState.Degraded => PipelineDisplayState.Degraded,
        PipelineState.Reconnecting => PipelineDisplayState.Reconnecting,
        PipelineState.Retrying => PipelineDisplayState.Retrying,
        PipelineState.Paused => PipelineDisplayState.Paused,
        PipelineState.Failed => PipelineDisplayState.Failed,
        PipelineState.Stopped => PipelineDisplayState.Stopped,
        PipelineState.Completed => PipelineDisplayState.Completed,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Reading the binlog (or about to): starting, running, degraded, reconnecting, retrying.</summary>
    public static bool IsReading(this PipelineDisplayState state) =>
        state is PipelineDisplayState.Starting or PipelineDisplayState.Running or PipelineDisplayState.Degraded or PipelineDisplayState.Reconnecting
            or PipelineDisplayState.Retrying or PipelineDisplayState.Snapshotting;

    /// <summary>Delivering events: running, degraded, retrying.</summary>
    public static bool IsDelivering(this PipelineDisplayState state) =>
        state is PipelineDisplayState.Running or PipelineDisplayState.Degraded or PipelineDisplayState.Retrying or PipelineDisplayState.Snapshotting;
}
