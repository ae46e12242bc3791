namespace PluginHost.Sdk;

/// <summary>What happened to a row.</summary>
public enum ChangeOperation
{
    Insert,
    Update,
    Delete,
    /// <summary>A row read by a snapshot (<c>after</c> holds it, <c>before</c> is null).</summary>
    Read,
}
