namespace PluginHost.Control;

/// <summary>Where a pipeline's definition comes from.</summary>
internal enum PipelineOrigin
{
    /// <summary>The configuration file.</summary>
    File,

    /// <summary>Created or replaced over the REST API (kept in <c>state_dir/api-pipelines.yaml</c>).</summary>
    Api,
}
