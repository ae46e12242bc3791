using System.Text.Json;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;

namespace PluginHost.Config;

/// <summary>A validated pipeline: its options plus what was derived from them.</summary>
internal sealed record PipelineDefinition(
    PipelineOptions Options,
    ConnectionOptions Connection,
    BinlogStart Start,
    EventFilter Filter,
    string SinkType,
    JsonElement SinkSettings,
    string? TransformPath,
    OnErrorPolicy OnError,
    string? DeadLetterPath)
{
    public string Name => Options.Name;

    /// <summary>Defined over the REST API (not the configuration file): its paths are confined (<see cref="ApiPaths"/>).</summary>
    public bool FromApi { get; init; }

    /// <summary>The JavaScript rule chain of a <c>transform:</c> mapping (null: none, or the single file of <see cref="TransformPath"/>).</summary>
    public IReadOnlyList<TransformRule>? TransformRules { get; init; }

    /// <summary>The validated <c>snapshot:</c> block (<see cref="SnapshotSettings.None"/> when absent).</summary>
    public SnapshotSettings Snapshot { get; init; } = SnapshotSettings.None;
}
