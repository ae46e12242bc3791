using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PluginHost.Config;
using PluginHost.Control;

namespace PluginHost.Api;

/// <summary>
/// Request bodies as text and as trees, bounded (<see cref="InputLimits"/>): invalid UTF-8, invalid JSON/YAML, nesting
/// too deep, too many values and duplicate keys are 400s naming the body; nothing a body holds reaches a recursive parser.
/// </summary>
internal static class RequestBody
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body as text: UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); other bytes are a 400.</summary>
    public static async Task<string> ReadTextAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        try
        {
            return await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (DecoderFallbackException e)
        {
            throw Invalid("the body is not valid UTF-8 text", $"body: not valid UTF-8 text ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>A pipeline sent as JSON or YAML (by <paramref name="media"/>, already lower case without parameters).</summary>
    public static JsonObject ReadPipeline(string body, string media)
    {
        if (media is "application/json" or "text/json" || media.EndsWith("+json", StringComparison.Ordinal))
        {
            JsonNode? node;
            try
            {
                node = BoundedJson.Parse(body.Length == 0 ? "null" : body);
            }
            catch (FormatException e)
            {
                throw Invalid("the body is not valid JSON", $"body: {e.Message}");
            }
            return node as JsonObject ?? throw ApiProblemException.Invalid("a pipeline is a JSON object",
                new Dictionary<string, string[]> { ["(body)"] = ["must be a JSON object: { \"name\": …, \"source\": …, \"sink\": … }"] });
        }
        if (media is "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml" or "application/yml")
        {
            var errors = new List<ConfigError>();
            var tree = YamlToJson.Parse(body, "request body", errors);
            if (errors.Count > 0)
                throw ApiProblemException.Invalid(string.Join("; ", errors.Select(e => $"body: {e.Key}: {e.Message}")),
                    ControlException.ErrorsOf(errors, false, []));
            return tree as JsonObject ?? throw ApiProblemException.Invalid("a pipeline is a YAML mapping",
                new Dictionary<string, string[]> { ["(body)"] = ["must be a mapping: name, source, sink, …"] });
        }
        throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
            $"send the pipeline as JSON (Content-Type: application/json) or YAML (Content-Type: application/yaml); got '{(media.Length == 0 ? "none" : media)}'");
    }

    private static ApiProblemException Invalid(string detail, string message) =>
        ApiProblemException.Invalid(detail, new Dictionary<string, string[]> { ["(body)"] = [message] });
}
