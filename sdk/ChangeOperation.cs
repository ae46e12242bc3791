namespace PluginHost.Sdk;

/// <summary>What happened to a row.</summary>
public enum ChangeOperation
{
    Insert,
    Update,
    Delete,
}
