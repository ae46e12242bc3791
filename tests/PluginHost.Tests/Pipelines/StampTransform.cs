using PluginHost.Scripting;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Tests.Pipelines;

/// <summary>A transform version that stamps each event with its version (and passes it on).</summary>
internal sealed class StampTransform(string version) : IEventTransform
{
    public string Version => version;

    public void Apply(ChangeEvent change, List<ChangeEvent> output)
    {
        change.Extra["version"] = version;
        output.Add(change);
    }
}
