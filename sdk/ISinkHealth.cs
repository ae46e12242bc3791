namespace PluginHost.Sdk;

/// <summary>
/// A sink with several destinations (webhook tasks, say) tells how each is doing; the host shows it in the REST API,
/// <c>/health</c> and the dashboard, and names the destination that holds the pipeline when its in-flight budget is full.
/// </summary>
public interface ISinkHealth
{
    /// <summary>One entry per destination; read from any thread, at any time.</summary>
    IReadOnlyList<SinkTargetHealth> Targets { get; }
}

/// <summary>How one destination of a sink is doing.</summary>
/// <param name="Name">The destination, as the configuration names it (a webhook task id, a topic).</param>
/// <param name="Failing">True from a failed attempt until the next success.</param>
/// <param name="LastError">The last failure (with its HTTP status or error code), null once it succeeds again.</param>
/// <param name="Pending">Events handed to the sink for this destination and not yet delivered or dead-lettered.</param>
/// <param name="FailingSince">When the current run of failures began.</param>
public sealed record SinkTargetHealth(string Name, bool Failing, string? LastError, long Pending, DateTimeOffset? FailingSince);
