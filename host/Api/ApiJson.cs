using System.Text.Json;
using System.Text.Json.Serialization;

namespace PluginHost.Api;

/// <summary>The REST API's JSON: snake_case names (like the YAML configuration), enums as snake_case text.</summary>
internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null; // pipeline names and setting keys stay as they are
        if (!o.Converters.Any(c => c is JsonStringEnumConverter))
            o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return o;
    }
}
