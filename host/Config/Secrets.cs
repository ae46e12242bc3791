using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>
/// Keeps secrets out of everything the API returns and every log line of a pipeline: values under secret-looking keys (<c>password</c>, <c>secret</c>,
/// <c>token</c>, <c>bearer</c>, <c>authorization</c>, <c>api_key</c>, <c>credential</c>, <c>private_key</c>, in any
/// case and with any prefix, e.g. <c>sasl_password</c>, an <c>Authorization</c> header) and every value under a
/// <c>headers</c> mapping become <c>"***"</c>; every URL is shown with <see cref="UrlRedaction.Display"/> (userinfo,
/// query values, token path segments masked); and a pipeline's known secret values are masked wherever they occur in
/// text (errors, diagnostics). docs/security.md lists it all.
/// </summary>
internal static partial class Secrets
{
    public const string Mask = "***";

    private static readonly string[] SecretKeyParts =
        ["password", "passwd", "secret", "token", "bearer", "authorization", "api_key", "apikey", "api-key", "credential", "private_key", "privatekey"];

    public static bool IsSecretKey(string key)
    {
        foreach (var part in SecretKeyParts)
            if (key.Contains(part, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>True when any key of a configuration path (<c>pipelines[0].sink.headers.Authorization</c>) is a secret key.</summary>
    public static bool IsSecretPath(string path)
    {
        foreach (var key in path.Split(['.', '[', ']'], StringSplitOptions.RemoveEmptyEntries))
            if (IsSecretKey(key)) return true;
        return false;
    }

    /// <summary>A redacted deep copy of <paramref name="node"/>.</summary>
    public static JsonNode? Redact(JsonNode? node) => node switch
    {
        JsonObject o => RedactObject(o),
        JsonArray a => new JsonArray(a.Select(Redact).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(UrlRedaction.InText(s)),
        null => null,
        _ => node.DeepClone(),
    };

    private static JsonObject RedactObject(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in o)
        {
            if ((IsSecretKey(key) || IsHeaders(key)) && value is JsonValue or JsonObject or JsonArray && !IsEmpty(value))
                copy[key] = value is JsonObject inner ? RedactAll(inner) : JsonValue.Create(Mask);
            else if (IsUrlKey(key) && value is JsonValue v && v.TryGetValue<string>(out var url))
                copy[key] = JsonValue.Create(UrlRedaction.Display(url));
            else copy[key] = Redact(value);
        }
        return copy;
    }

    /// <summary>Under a secret key (e.g. <c>basic: { username, password }</c> below <c>auth</c>… or a secret mapping): every leaf is masked.</summary>
    private static JsonObject RedactAll(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in o)
            copy[key] = value is JsonObject inner ? RedactAll(inner) : IsEmpty(value) ? null : JsonValue.Create(Mask);
        return copy;
    }

    /// <summary>A mapping of HTTP headers: every value in it is a secret (cookies, signatures, custom keys).</summary>
    public static bool IsHeaders(string key) => key.Equals("headers", StringComparison.OrdinalIgnoreCase);

    /// <summary>A setting holding a URL or a URL path (<c>url</c>, <c>callback_host</c>, <c>…_url</c>).</summary>
    private static bool IsUrlKey(string key) =>
        key.EndsWith("url", StringComparison.OrdinalIgnoreCase) || key.Equals("callback_host", StringComparison.OrdinalIgnoreCase);

    private static bool IsEmpty(JsonNode? value) =>
        value is null || value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0;

    /// <summary>Every URL in <paramref name="text"/> with its userinfo, query values and token path segments masked.</summary>
    public static string RedactUrls(string text) => UrlRedaction.InText(text);

    [GeneratedRegex(@"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@")]
    private static partial Regex UrlPassword();

    /// <summary>The secret values of a pipeline (its source password, sink settings under secret keys), to mask in free text.</summary>
    public static IReadOnlyList<string> ValuesOf(PipelineDefinition? definition)
    {
        var values = new List<string>();
        if (definition is null) return values;
        if (definition.Connection.Password is { Length: > 0 } pw) values.Add(pw);
        if (definition.SinkSettings.ValueKind == JsonValueKind.Object) Collect(definition.SinkSettings, false, values);
        foreach (var url in Urls(definition.SinkSettings))
            values.AddRange(UrlRedaction.SecretParts(url).Where(p => p.Length >= 8));
        foreach (var (key, value) in definition.Options.Checkpoint.Settings) Collect(value, IsSecretKey(key), values);
        return values.Where(v => v.Length >= 3).Distinct().OrderByDescending(v => v.Length).ToList();
    }

    private static void Collect(JsonElement e, bool secret, List<string> values)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Collect(p.Value, secret || IsSecretKey(p.Name) || IsHeaders(p.Name), values);
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Collect(item, secret, values);
                break;
            case JsonValueKind.String when secret:
                values.Add(e.GetString()!);
                break;
            case JsonValueKind.String:
                // A URL with a password in it (e.g. a webhook url): the password is a secret too.
                var m = UrlPassword().Match(e.GetString()!);
                if (m.Success) values.Add(m.Value[m.Groups[1].Length..^1]);
                break;
        }
    }

    /// <summary>Masks <paramref name="secrets"/> (and URL passwords) in free text.</summary>
    public static string? Scrub(string? text, IReadOnlyList<string> secrets)
    {
        if (string.IsNullOrEmpty(text)) return text;
        foreach (var s in secrets) text = text.Replace(s, Mask, StringComparison.Ordinal);
        return UrlRedaction.InText(text);
    }

    /// <summary>The URL-valued settings (<c>url</c>, <c>callback_host</c>, …) anywhere in <paramref name="e"/>.</summary>
    private static IEnumerable<string> Urls(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray())
            foreach (var u in Urls(item)) yield return u;
        if (e.ValueKind != JsonValueKind.Object) yield break;
        foreach (var p in e.EnumerateObject())
        {
            if (IsUrlKey(p.Name) && p.Value.ValueKind == JsonValueKind.String) yield return p.Value.GetString()!;
            else foreach (var u in Urls(p.Value)) yield return u;
        }
    }
}
