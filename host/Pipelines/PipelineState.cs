namespace PluginHost.Pipelines;

/// <summary>The lifecycle state of a pipeline.</summary>
internal enum PipelineState
{
    Starting,
    Running,
    /// <summary>Running, but a destination of the sink is failing: its events wait (and are retried), the others flow.</summary>
    Degraded,
    /// <summary>The source connection dropped; reconnecting with backoff.</summary>
    Reconnecting,
    /// <summary>The sink or checkpoint store is failing; the batch is retried, nothing is skipped.</summary>
    Retrying,
    Paused,
    /// <summary>Stopped on an error that needs attention (see the last error).</summary>
    Failed,
    Stopped,
    /// <summary>An <c>initial_only</c> snapshot read every table: the pipeline ended, nothing more to do.</summary>
    Completed,
}
