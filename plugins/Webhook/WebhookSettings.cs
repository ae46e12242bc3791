using System.Text.Json;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>Validated webhook settings with everything derived once at start (final URLs, headers, key, paths).</summary>
internal sealed class WebhookSettings
{
    public required WebhookOptions Options { get; init; }
    public required WebhookRoute[] Routes { get; init; }
    public required WebhookFormat Format { get; init; }
    public byte[]? SigningKey { get; init; }
    public string? DeadLetterPath { get; init; }

    /// <summary>Binds and checks a <c>sink:</c> block; every problem found is reported in one exception (first key named).</summary>
    /// <param name="resolvePath">The host's path resolution (<see cref="SinkContext.ResolvePath"/>; null: relative to <paramref name="baseDirectory"/>).</param>
    public static WebhookSettings From(JsonElement settings, string baseDirectory, Func<string, string, string>? resolvePath = null)
    {
        var errors = new List<SinkConfigurationException>();
        var o = SettingsBinder.Bind<WebhookOptions>(settings, errors, ignoreType: true);
        void Error(string key, string message) => errors.Add(new SinkConfigurationException(key, message));

        Uri? host = null;
        if (!string.IsNullOrWhiteSpace(o.CallbackHost))
        {
            if (!Uri.TryCreate(o.CallbackHost, UriKind.Absolute, out host) || host.Scheme is not ("http" or "https") || host.Host.Length == 0)
                Error("callback_host", $"'{o.CallbackHost}' is not an http(s) URL");
            else if (host.Query.Length > 0 || host.Fragment.Length > 0)
                Error("callback_host", "must not have a query or fragment");
        }
        if (o.Tasks.Count == 0 && errors.Count == 0) Error("tasks", "is required: a list of { table, events, url }");
        var routes = new List<WebhookRoute>();
        for (var i = 0; i < o.Tasks.Count; i++)
        {
            var t = o.Tasks[i];
            var k = $"tasks[{i}]";
            if (string.IsNullOrWhiteSpace(t.Table)) Error($"{k}.table", "is required (table, database.table or a pattern with *)");
            var ops = new List<ChangeOperation>();
            if (t.Events.Count == 0) Error($"{k}.events", "must list at least one of insert, update, delete, read (or be left out: all four)");
            for (var j = 0; j < t.Events.Count; j++)
                switch (t.Events[j]?.Trim().ToLowerInvariant())
                {
                    case "insert": ops.Add(ChangeOperation.Insert); break;
                    case "update": ops.Add(ChangeOperation.Update); break;
                    case "delete": ops.Add(ChangeOperation.Delete); break;
                    case "read": ops.Add(ChangeOperation.Read); break;
                    default: Error($"{k}.events[{j}]", $"'{t.Events[j]}' is not insert, update, delete or read"); break;
                }
            Uri? url = null;
            if (string.IsNullOrWhiteSpace(t.Url)) Error($"{k}.url", "is required");
            else
            {
                var isAbsolute = Uri.TryCreate(t.Url, UriKind.Absolute, out var abs) && abs.Scheme is "http" or "https";
                if (!isAbsolute && !t.Url.StartsWith('/'))
                    Error($"{k}.url", $"'{t.Url}' is neither an http(s) URL nor a path starting with /");
                else if (!isAbsolute && host is null)
                    Error($"{k}.url", $"'{t.Url}' is relative: set callback_host");
                else if (!Uri.TryCreate(WebhookRoute.Join(o.CallbackHost, t.Url), UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
                    Error($"{k}.url", $"'{t.Url}' does not make a valid URL");
            }
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var (name, value) in t.Headers)
            {
                if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':'))
                    Error($"{k}.headers.{name}", "is not a valid header name");
                else if (name.StartsWith("webhook-", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                    Error($"{k}.headers.{name}", "is set by the sink");
                else if (value is null || value.Any(c => c is '\r' or '\n'))
                    Error($"{k}.headers.{name}", "must be a one-line value");
                else headers.Add(new(name, value));
            }
            if (t.Auth is { } auth)
            {
                if (auth.Bearer is not null && auth.Basic is not null) Error($"{k}.auth", "set either bearer or basic, not both");
                else if (auth.Bearer is { } token)
                {
                    if (string.IsNullOrWhiteSpace(token)) Error($"{k}.auth.bearer", "is empty");
                    else headers.Add(new("Authorization", "Bearer " + token.Trim()));
                }
                else if (auth.Basic is { } basic)
                {
                    if (basic.Username.Length == 0 || basic.Username.Contains(':')) Error($"{k}.auth.basic.username", "is required and must not contain ':'");
                    else headers.Add(new("Authorization", WebhookRoute.BasicHeader(basic.Username, basic.Password)));
                }
                else Error($"{k}.auth", "needs bearer: TOKEN or basic: { username, password }");
                if (t.Headers.Keys.Any(h => h.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
                    Error($"{k}.headers.Authorization", "conflicts with auth");
            }
            if (url != null && !string.IsNullOrWhiteSpace(t.Table))
                routes.Add(new WebhookRoute(i, string.IsNullOrWhiteSpace(t.Id) ? t.Url : t.Id!, t.Table.Trim(), ops, url, headers));
        }
        foreach (var dup in routes.GroupBy(r => r.Id).Where(g => g.Count() > 1 && !string.IsNullOrWhiteSpace(o.Tasks[g.First().Index].Id)))
            Error($"tasks[{dup.Skip(1).First().Index}].id", $"'{dup.Key}' is used by tasks[{dup.First().Index}] too");

        if (o.WorkerCount is < 1 or > 1024) Error("worker_count", "must be 1-1024");
        if (o.MaxConnections is < 1 or > 10_000) Error("max_connections", "must be 1-10000");
        if (o.Timeout <= TimeSpan.Zero) Error("timeout", "must be positive (e.g. 30s)");
        if (o.MaxRetries is < 0 or > 1_000_000) Error("max_retries", "must be 0-1000000");
        if (o.RetryBaseDelay < TimeSpan.Zero) Error("retry_base_delay", "must not be negative");
        if (o.RetryMaxDelay < o.RetryBaseDelay) Error("retry_max_delay", "must be at least retry_base_delay");
        if (o.ProbeInterval <= TimeSpan.Zero) Error("probe_interval", "must be positive");
        if (o.BatchSize is < 1 or > 10_000) Error("batch_size", "must be 1-10000");
        var format = o.Format.Trim().ToLowerInvariant() switch
        {
            "json" => WebhookFormat.Json,
            "pikachu" => WebhookFormat.Pikachu,
            _ => (WebhookFormat?)null,
        };
        if (format is null) Error("format", "must be json or pikachu");
        byte[]? key = null;
        if (o.Secret is { } secret)
        {
            if (!StandardWebhookSigner.TryParseSecret(secret.Trim(), out key))
                Error("secret", "must be whsec_ followed by base64 (a Standard Webhooks secret)");
            else if (key.Length < 16) Error("secret", $"is {key.Length} bytes; use at least 16 (24-64 recommended)");
        }
        string? deadLetter = null;
        if (o.DeadLetter is { } dl)
        {
            if (string.IsNullOrWhiteSpace(dl)) Error("dead_letter", "is empty (a .jsonl path, or leave it out to hold and retry failing events)");
            else
            {
                try
                {
                    deadLetter = resolvePath?.Invoke("dead_letter", dl) ?? Path.GetFullPath(Path.Combine(baseDirectory, dl));
                }
                catch (SinkConfigurationException e)
                {
                    errors.Add(e);
                }
            }
        }

        if (errors.Count > 0)
        {
            var first = errors[0];
            var message = first.Message[(first.Key.Length + 2)..];
            if (errors.Count > 1) message += "; also " + string.Join("; ", errors.Skip(1).Select(e => e.Message));
            throw new SinkConfigurationException(first.Key, message);
        }
        return new WebhookSettings
        {
            Options = o,
            Routes = routes.ToArray(),
            Format = format!.Value,
            SigningKey = key,
            DeadLetterPath = deadLetter,
        };
    }
}
