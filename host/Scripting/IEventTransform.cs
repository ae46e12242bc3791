using PluginHost.Sdk;

namespace PluginHost.Scripting;

/// <summary>A compiled transform as the pipeline runs it: one version, applied to one event at a time.</summary>
internal interface IEventTransform
{
    /// <summary>Identifies the version (e.g. a hash of the script and its helper plugins).</summary>
    string Version { get; }

    /// <summary>Transforms one event, adding what should be emitted (none to drop it, several to fan out) to <paramref name="output"/>.</summary>
    void Apply(ChangeEvent change, List<ChangeEvent> output);
}
