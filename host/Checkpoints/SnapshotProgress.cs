using System.Text.Json;
using System.Text.Json.Serialization;

namespace PluginHost.Checkpoints;

/// <summary>
/// How far a snapshot got, saved with the checkpoint: per table whether it is done and the key of the last row
/// delivered, so a restart continues after the last acknowledged chunk instead of from the start.
/// </summary>
/// <param name="Id">Names this snapshot (initial, or when an on-demand one was asked for).</param>
/// <param name="Kind">initial or on_demand.</param>
/// <param name="Completed">Every table read (kept for <c>initial_only</c>: it ends completed and stays so).</param>
internal sealed record SnapshotProgress(string Id, string Kind, IReadOnlyList<SnapshotTableProgress> Tables, bool Completed = false)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The first table not read to its end, or null when every one is.</summary>
    [JsonIgnore]
    public SnapshotTableProgress? Current => Tables.FirstOrDefault(t => !t.Done);

    /// <summary>This progress with <paramref name="table"/> replaced (matched by database and name).</summary>
    public SnapshotProgress With(SnapshotTableProgress table) =>
        this with { Tables = Tables.Select(t => t.Database == table.Database && t.Table == table.Table ? table : t).ToArray() };

    /// <summary>As text, for checkpoint backends that keep a string (sdk <c>CheckpointState.Snapshot</c>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SnapshotProgress? FromJson(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<SnapshotProgress>(json, Json);
}

/// <summary>One table of a snapshot.</summary>
/// <param name="LastKey">The chunk key of the last row delivered (the reader's own encoding), null before the first chunk.</param>
/// <param name="Rows">Rows delivered so far.</param>
/// <param name="Chunks">Chunks delivered so far.</param>
/// <param name="Where">The SQL condition an on-demand snapshot of the table was asked with, or null.</param>
internal sealed record SnapshotTableProgress(string Database, string Table, bool Done = false, string? LastKey = null, long Rows = 0, long Chunks = 0, string? Where = null)
{
    public override string ToString() => $"{Database}.{Table}";
}
