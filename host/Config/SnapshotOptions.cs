namespace PluginHost.Config;

/// <summary>The <c>snapshot:</c> block of a pipeline: whether and how it reads the rows that already exist.</summary>
internal sealed class SnapshotOptions
{
    /// <summary>never (default) | initial | initial_only | when_needed.</summary>
    public string Mode { get; set; } = "never";

    /// <summary>Rows per chunk, read in primary-key order.</summary>
    public int ChunkSize { get; set; } = 10_000;

    /// <summary><c>database.table</c> patterns; default: every table the pipeline's filter takes.</summary>
    public List<string>? Tables { get; set; }

    /// <summary>auto (default) | snapshot_position | watermark: how each chunk is placed in the binlog stream.</summary>
    public string Consistency { get; set; } = "auto";
}
