using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>A pipeline's options as JSON: to compare two definitions, and to show one.</summary>
internal static class PipelineOptionsJson
{
    /// <summary>The options in one canonical text (equal text, same pipeline).</summary>
    public static string CanonicalOf(PipelineDefinition d) => JsonSerializer.Serialize(d.Options, ControlJson.Canonical);

    /// <summary>The options of a pipeline as JSON (for <c>GET /pipelines/{name}</c>; redact before showing).</summary>
    /// <remarks>
    /// The bound options (typed, with defaults); for a pipeline sent over the API, values that were <c>${ENV}</c>
    /// references show the reference, not what it expanded to.
    /// </remarks>
    public static JsonNode? OptionsJson(PipelineEntry e)
    {
        if (e.Definition is not { } d) return e.Raw?.DeepClone();
        var typed = JsonSerializer.SerializeToNode(d.Options, ControlJson.Canonical);
        if (e.Raw is { } raw && typed != null) KeepReferences(raw, typed);
        return typed;
    }

    private static void KeepReferences(JsonNode raw, JsonNode typed)
    {
        static string Key(string k) => k.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        switch (raw, typed)
        {
            case (JsonObject r, JsonObject t):
                foreach (var (k, v) in r)
                {
                    var key = t.ContainsKey(k) ? k : t.Select(x => x.Key).FirstOrDefault(x => Key(x) == Key(k));
                    if (key is null || v is null) continue;
                    if (v is JsonValue value && value.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal)) t[key] = s;
                    else if (t[key] is { } child) KeepReferences(v, child);
                }
                break;
            case (JsonArray r, JsonArray t):
                for (var i = 0; i < Math.Min(r.Count, t.Count); i++)
                {
                    if (r[i] is JsonValue value && value.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal)) t[i] = s;
                    else if (r[i] is { } rc && t[i] is { } tc) KeepReferences(rc, tc);
                }
                break;
        }
    }}
