using System.Text.Json.Nodes;

namespace PluginHost.Tests.Support;

/// <summary>One request the receiver answered with a 2xx.</summary>
public sealed record Received(string Path, string Body, IReadOnlyDictionary<string, string> Headers, DateTime At, long AtTicks)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;

    /// <summary>The body's events: the object itself, or the items of an array.</summary>
    public IEnumerable<JsonObject> Events() => JsonNode.Parse(Body) switch
    {
        JsonArray a => a.Select(n => (JsonObject)n!),
        JsonObject o => [o],
        _ => [],
    };
}
