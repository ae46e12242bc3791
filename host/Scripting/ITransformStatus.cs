namespace PluginHost.Scripting;

/// <summary>The pipeline status a transform host reports to (the pipeline's status implements it).</summary>
internal interface ITransformStatus
{
    /// <summary>The pipeline's name.</summary>
    string Name { get; }

    /// <summary>True while the first transform does not compile and the pipeline waits for a saved fix.</summary>
    bool AwaitingTransformFix { get; set; }

    /// <summary>The version the pipeline runs now.</summary>
    string? TransformVersion { get; }

    /// <summary>The last compilation's diagnostics, formatted (null when none).</summary>
    string? TransformDiagnostics { get; set; }

    /// <summary>Shows the pipeline failed with <paramref name="message"/>.</summary>
    void TransformFailed(string message);

    /// <summary>A transform that did not compile now does: the pipeline is starting, its error cleared.</summary>
    void TransformCompiled();

    /// <summary>A stuck transform call returned: a pipeline shown failed for it runs again, its error cleared.</summary>
    void TransformRecovered();
}
