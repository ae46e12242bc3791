using PluginHost.Binlog.Replication;
using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>Validates a pipeline's <c>snapshot:</c> block.</summary>
internal static class SnapshotRules
{
    public const int MaxChunkSize = 1_000_000;

    /// <summary>The settings, or <see cref="SnapshotSettings.None"/> after reporting each problem through <paramref name="error"/>.</summary>
    /// <param name="events">The pipeline's <c>filter.events</c> as written: a snapshot needs <c>read</c> among them.</param>
    public static SnapshotSettings Validate(SnapshotOptions o, BinlogStart? start, IReadOnlyList<string> events, Action<string, string> error)
    {
        var ok = true;
        void Error(string key, string message)
        {
            ok = false;
            error(key, message);
        }
        var mode = ParseMode(o.Mode);
        if (mode is null) Error("snapshot.mode", $"'{o.Mode}' is not never, initial, initial_only or when_needed");
        if (o.ChunkSize is < 1 or > MaxChunkSize) Error("snapshot.chunk_size", $"must be 1-{MaxChunkSize} (rows per chunk)");
        var consistency = o.Consistency.ToLowerInvariant().Replace("-", "_") switch
        {
            "auto" => SnapshotConsistency.Auto,
            "snapshot_position" => SnapshotConsistency.SnapshotPosition,
            "watermark" => SnapshotConsistency.Watermark,
            _ => (SnapshotConsistency?)null,
        };
        if (consistency is null) Error("snapshot.consistency", $"'{o.Consistency}' is not auto, snapshot_position or watermark");
        if (o.Tables is { } tables)
        {
            if (tables.Count == 0) Error("snapshot.tables", "is empty: leave it out to read every table the filter takes");
            for (var i = 0; i < tables.Count; i++)
                if (!EventFilter.IsValidPattern(tables[i])) Error($"snapshot.tables[{i}]", $"'{tables[i]}' is not a database.table pattern");
        }
        if (mode is SnapshotMode.Initial or SnapshotMode.InitialOnly or SnapshotMode.WhenNeeded && start is not (null or BinlogStart.LatestStart))
            Error("source.start", $"is {start}, but snapshot.mode {o.Mode} reads the tables and streams from the position it read them at; leave source.start out (latest)");
        if (mode is not (null or SnapshotMode.Never) && !events.Any(e => string.Equals(e?.Trim(), "read", StringComparison.OrdinalIgnoreCase)))
            Error("filter.events",
                $"leaves out read, but snapshot.mode {o.Mode} delivers the rows it reads as read events: add read (or leave filter.events out)");
        if (!ok || mode is null) return SnapshotSettings.None;
        var filter = o.Tables is null ? null : new EventFilter(o.Tables, [], [ChangeOperation.Read]);
        return new SnapshotSettings(mode.Value, o.ChunkSize, filter, consistency ?? SnapshotConsistency.Auto);
    }

    public static SnapshotMode? ParseMode(string text) => text.ToLowerInvariant().Replace("-", "_") switch
    {
        "never" or "" => SnapshotMode.Never,
        "initial" => SnapshotMode.Initial,
        "initial_only" => SnapshotMode.InitialOnly,
        "when_needed" => SnapshotMode.WhenNeeded,
        _ => null,
    };
}
