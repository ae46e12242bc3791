using System.Text.Json.Nodes;

namespace PluginHost.Config;

/// <summary>
/// The queue's default depends on the transform: a JavaScript transform's stage is slower than the binlog reader, so
/// the queue before it is always full, and a deeper queue only adds events that every young-generation collection
/// copies (the kafka benchmark's README rule: 0.38 → 0.10 s of collection pauses per 300,000 events at 512 KiB,
/// docs/benchmarks.md#kafka). A <c>queue_bytes</c> that is given (file, environment, API) is kept as it is.
/// </summary>
internal static class QueueDefaults
{
    /// <summary><c>queue_bytes</c> of a pipeline with a JavaScript transform that does not set it: 512 KiB.</summary>
    public const long JavaScriptQueueBytes = 512L << 10;

    /// <summary>Sets the default of every pipeline mapping under <c>pipelines:</c>.</summary>
    public static void Apply(JsonObject root)
    {
        if (root["pipelines"] is not JsonArray pipelines) return;
        foreach (var p in pipelines.OfType<JsonObject>()) ApplyPipeline(p);
    }

    /// <summary>The same for one pipeline mapping.</summary>
    public static void ApplyPipeline(JsonObject pipeline)
    {
        if (!pipeline.ContainsKey("queue_bytes") && IsJavaScript(pipeline["transform"]))
            pipeline["queue_bytes"] = JavaScriptQueueBytes;
    }

    /// <summary>A script ending in <c>.js</c>, or the mapping form (a chain of JavaScript rules).</summary>
    private static bool IsJavaScript(JsonNode? transform) => transform switch
    {
        JsonObject => true,
        JsonValue v when v.TryGetValue<string>(out var path) => path.Trim().EndsWith(".js", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
