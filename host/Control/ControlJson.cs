using System.Text.Json;
using System.Text.Json.Serialization;

namespace PluginHost.Control;

/// <summary>The control plane's JSON (and the REST API's): snake_case names (like the YAML configuration), enums as snake_case text.</summary>
internal static class ControlJson
{
    /// <summary>Options as JSON without web defaults: to compare definitions and show them.</summary>
    public static readonly JsonSerializerOptions Canonical = Configure(new JsonSerializerOptions());

    /// <summary>Applies these settings to <paramref name="o"/> (the HTTP layer applies them to its own options too).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null; // pipeline names and setting keys stay as they are
        if (!o.Converters.Any(c => c is JsonStringEnumConverter))
            o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        if (!o.Converters.Any(c => c is SafeJsonElementConverter)) o.Converters.Add(new SafeJsonElementConverter());
        return o;
    }

    /// <summary>Writes an unset <see cref="JsonElement"/> (e.g. a pipeline without <c>source.start</c>) as null instead of throwing.</summary>
    private sealed class SafeJsonElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonElement.ParseValue(ref reader);

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options)
        {
            if (value.ValueKind == JsonValueKind.Undefined) writer.WriteNullValue();
            else value.WriteTo(writer);
        }
    }
}
