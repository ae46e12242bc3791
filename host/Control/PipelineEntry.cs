using System.Text.Json.Nodes;
using PluginHost.Config;
using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>One pipeline of the desired set (immutable; replaced on change).</summary>
/// <param name="Raw">The definition as sent over the API (null for a configuration-file pipeline).</param>
/// <param name="Invalid">Why a stored definition is not valid any more (then <paramref name="Definition"/> is null).</param>
/// <param name="Detached">The status shown while the pipeline does not run in the manager (paused, disabled, invalid).</param>
internal sealed record PipelineEntry(string Name, PipelineOrigin Origin, PipelineDefinition? Definition, JsonObject? Raw, string? Invalid,
    bool Paused, PipelineStatus? Detached)
{
    public bool Enabled => Definition?.Options.Enabled ?? false;
}
