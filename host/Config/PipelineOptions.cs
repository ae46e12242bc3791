using System.Text.Json;

namespace PluginHost.Config;

/// <summary>One pipeline: a source, a filter, an optional transform and a sink.</summary>
internal sealed class PipelineOptions
{
    public string Name { get; set; } = "";
    public SourceOptions Source { get; set; } = new();
    public FilterOptions Filter { get; set; } = new();

    /// <summary>
    /// A .csx or .js transform script (a file name, see <see cref="HostConfig.ResolveTransform"/>), or a mapping with a
    /// chain of JavaScript rules (<see cref="TransformOptions"/>); absent: none.
    /// </summary>
    public System.Text.Json.JsonElement Transform { get; set; }

    /// <summary>What a failing transform does: stop, skip or dead_letter.</summary>
    public string OnError { get; set; } = "stop";

    /// <summary>JSONL file for events the transform failed on (on_error: dead_letter).</summary>
    public string? DeadLetter { get; set; }

    /// <summary>The sink block: <c>type</c> plus the sink's own settings.</summary>
    public JsonElement Sink { get; set; }

    public CheckpointOptions Checkpoint { get; set; } = new();

    /// <summary>Reading the rows that already exist (<c>snapshot.mode</c>, default never).</summary>
    public SnapshotOptions Snapshot { get; set; } = new();

    /// <summary>Most events handed to the sink in one batch.</summary>
    public int BatchSize { get; set; } = 2048;

    /// <summary>Capacity of the queue between the binlog reader and the sink, in chunks of up to 1024 events.</summary>
    public int QueueChunks { get; set; } = 64;

    /// <summary>
    /// Estimated memory the queue between the binlog reader and the sink may hold; the reader waits while it is full
    /// (so big rows cannot pile up). Chunks are cut at a quarter of it.
    /// </summary>
    public long QueueBytes { get; set; } = 2L << 20;

    /// <summary>
    /// Most events handed to the sink and not yet acknowledged. Past it (or <see cref="InFlightBytes"/>) the pipeline
    /// waits for the oldest acknowledgement; until then a slow receiver holds back only its own events. It is also the
    /// most a crash can make a pipeline send again.
    /// </summary>
    public int InFlightEvents { get; set; } = 100_000;

    /// <summary>Estimated memory of the events handed to the sink and not yet acknowledged.</summary>
    public long InFlightBytes { get; set; } = 64L << 20;

    /// <summary>How long a graceful stop waits for the sink to acknowledge what it was given.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Per-event time limit for the transform.</summary>
    public TimeSpan TransformTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>False to define a pipeline without running it.</summary>
    public bool Enabled { get; set; } = true;
}
