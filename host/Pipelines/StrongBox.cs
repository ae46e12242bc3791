namespace PluginHost.Pipelines;

/// <summary>A reference holder so "switch to null" can be told apart from "no switch pending".</summary>
internal sealed class StrongBox<T>(T value)
{
    public T Value { get; } = value;
}
