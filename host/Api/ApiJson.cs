using System.Text.Json;
using PluginHost.Control;

namespace PluginHost.Api;

/// <summary>The REST API's JSON: the control plane's settings (<see cref="ControlJson"/>) on web defaults.</summary>
internal static class ApiJson
{
    public static readonly JsonSerializerOptions Options = ControlJson.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
