namespace PluginHost.Config;

/// <summary>When a pipeline reads the existing rows of its tables.</summary>
internal enum SnapshotMode
{
    /// <summary>Never: it only streams changes.</summary>
    Never,
    /// <summary>Once, when it has no checkpoint yet; then it streams on.</summary>
    Initial,
    /// <summary>Once, then it stops (state completed).</summary>
    InitialOnly,
    /// <summary>Like <see cref="Initial"/>, and again when its checkpoint's binlog is gone from the server.</summary>
    WhenNeeded,
}

/// <summary>How a chunk's rows are placed in the binlog stream.</summary>
internal enum SnapshotConsistency
{
    /// <summary>The exact position where the server offers one (MariaDB), else watermarks (MySQL).</summary>
    Auto,
    /// <summary>Each chunk in a consistent-snapshot transaction with its exact binlog position (MariaDB's binlog_snapshot_file/position).</summary>
    SnapshotPosition,
    /// <summary>Low and high watermarks around each chunk (DBLog): works on every server.</summary>
    Watermark,
}

/// <summary>The validated <c>snapshot:</c> block.</summary>
/// <param name="Tables">Tables to read; null: what the pipeline's filter takes.</param>
internal sealed record SnapshotSettings(SnapshotMode Mode, int ChunkSize, EventFilter? Tables, SnapshotConsistency Consistency)
{
    public static SnapshotSettings None { get; } = new(SnapshotMode.Never, 10_000, null, SnapshotConsistency.Auto);

    public static string Text(SnapshotMode mode) => mode switch
    {
        SnapshotMode.Initial => "initial",
        SnapshotMode.InitialOnly => "initial_only",
        SnapshotMode.WhenNeeded => "when_needed",
        _ => "never",
    };
}
