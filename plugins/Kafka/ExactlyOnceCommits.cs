using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>The newest checkpoint an exactly-once sink committed with its events (the store's saves only confirm it).</summary>
internal sealed class ExactlyOnceCommits
{
    private CheckpointState? _committed;

    public CheckpointState? Last => Volatile.Read(ref _committed);

    public void Committed(CheckpointState checkpoint) => Volatile.Write(ref _committed, checkpoint);

    /// <summary>True when the committed checkpoint is <paramref name="checkpoint"/> or later.</summary>
    public bool Covers(CheckpointState checkpoint)
    {
        if (Last is not { } c) return false;
        if (c.EventsDelivered != checkpoint.EventsDelivered) return c.EventsDelivered > checkpoint.EventsDelivered;
        var file = string.CompareOrdinal(c.File, checkpoint.File);
        return file > 0 || file == 0 && c.Position >= checkpoint.Position;
    }
}

/// <summary>Reads a pipeline's <c>sink:</c> block as the checkpoint store sees it: is it a Kafka sink with <c>exactly_once: true</c>?</summary>
internal static class ExactlyOnceSink
{
    /// <summary>The sink's <c>bootstrap_servers</c> when it is a Kafka sink with <c>exactly_once: true</c>, else null.</summary>
    public static string? Of(JsonElement sink) =>
        sink.ValueKind == JsonValueKind.Object && sink.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "kafka" &&
        sink.TryGetProperty("exactly_once", out var e) && (e.ValueKind == JsonValueKind.True || e.ValueKind == JsonValueKind.String && e.GetString() is "true" or "True")
            ? sink.TryGetProperty("bootstrap_servers", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() ?? "" : ""
            : null;

    /// <summary>Whether two <c>bootstrap_servers</c> lists share a broker (case and spaces aside): taken as the same cluster.</summary>
    public static bool SameCluster(string a, string b) => Brokers(a).Overlaps(Brokers(b));

    private static HashSet<string> Brokers(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()).ToHashSet();
}
