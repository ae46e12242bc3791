namespace PluginHost.Scripting;

/// <summary>A transform threw and the pipeline's on_error policy is stop.</summary>
internal sealed class TransformFailedException(string message, Exception inner) : Exception(message, inner);
