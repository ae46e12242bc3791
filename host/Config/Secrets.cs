using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PluginHost.Config;

/// <summary>
/// Keeps secrets out of everything the API returns and every log line of a pipeline: values under secret-looking keys (<c>password</c>, <c>secret</c>,
/// <c>token</c>, <c>bearer</c>, <c>authorization</c>, <c>api_key</c>, <c>credential</c>, <c>private_key</c>, in any
/// case and with any prefix, e.g. <c>sasl_password</c>, an <c>Authorization</c> header) become <c>"***"</c>, passwords
/// in URLs (<c>https://user:pw@host</c>) are cut, and a pipeline's known secret values are masked wherever they occur in
/// text (errors, diagnostics).
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
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(RedactUrlPasswords(s)),
        null => null,
        _ => node.DeepClone(),
    };

    private static JsonObject RedactObject(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in o)
        {
            if (IsSecretKey(key) && value is JsonValue or JsonObject or JsonArray && !IsEmpty(value))
                copy[key] = value is JsonObject inner ? RedactAll(inner) : JsonValue.Create(Mask);
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

    private static bool IsEmpty(JsonNode? value) =>
        value is null || value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0;

    /// <summary><c>scheme://user:password@host</c> → <c>scheme://user:***@host</c>.</summary>
    public static string RedactUrlPasswords(string text) =>
        text.Contains("://", StringComparison.Ordinal) ? UrlPassword().Replace(text, "$1" + Mask + "@") : text;

    [GeneratedRegex(@"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@")]
    private static partial Regex UrlPassword();

    /// <summary>The secret values of a pipeline (its source password, sink settings under secret keys), to mask in free text.</summary>
    public static IReadOnlyList<string> ValuesOf(PipelineDefinition? definition)
    {
        var values = new List<string>();
        if (definition is null) return values;
        if (definition.Connection.Password is { Length: > 0 } pw) values.Add(pw);
        if (definition.SinkSettings.ValueKind == JsonValueKind.Object) Collect(definition.SinkSettings, false, values);
        foreach (var (key, value) in definition.Options.Checkpoint.Settings) Collect(value, IsSecretKey(key), values);
        return values.Where(v => v.Length >= 3).Distinct().OrderByDescending(v => v.Length).ToList();
    }

    private static void Collect(JsonElement e, bool secret, List<string> values)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Collect(p.Value, secret || IsSecretKey(p.Name), values);
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
        return RedactUrlPasswords(text);
    }
}
