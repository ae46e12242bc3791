namespace PluginHost.Plugins.Webhook;

/// <summary>
/// The <c>sink:</c> block of a webhook pipeline, as written (snake_case keys, bound by the SDK binder):
/// <c>{ type: webhook, callback_host, tasks: [...], worker_count, max_connections, timeout, max_retries,
/// retry_base_delay, retry_max_delay, format, batch_size, secret, dead_letter }</c>.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>Base URL that relative task URLs are joined to (its path is kept: <c>https://h/api</c> + <c>/users</c> → <c>https://h/api/users</c>).</summary>
    public string? CallbackHost { get; set; }

    /// <summary>Where events go: by table and event type.</summary>
    public List<WebhookTaskOptions> Tasks { get; set; } = [];

    /// <summary>Delivery lanes. Events of one row always use the same lane, so they arrive in commit order.</summary>
    public int WorkerCount { get; set; } = 20;

    /// <summary>Most open connections per receiving server.</summary>
    public int MaxConnections { get; set; } = 100;

    /// <summary>Time limit of one request (connect, send, response).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt before an event is dead-lettered (without a dead-letter file it is retried for ever).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two attempts.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// While a task's receiver fails, how often one request probes it beyond the lanes' own backoff; the first success
    /// wakes every lane of the task at once (a circuit that closes on success). Never more than <see cref="RetryMaxDelay"/>.
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>json</c> (the event JSON) or <c>pikachu</c> (pikachu's payload).</summary>
    public string Format { get; set; } = "json";

    /// <summary>Most events per request; above 1 the body is a JSON array.</summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>Standard Webhooks signing secret (<c>whsec_</c> + base64); null: requests are not signed.</summary>
    public string? Secret { get; set; }

    /// <summary>JSON Lines file for events that failed for good; null: failing events are held and retried for ever.</summary>
    public string? DeadLetter { get; set; }

    /// <summary>User-Agent header.</summary>
    public string UserAgent { get; set; } = "pluginhost-webhook/1";
}

/// <summary>One route: events of <see cref="Table"/> of the listed types go to <see cref="Url"/>.</summary>
public sealed class WebhookTaskOptions
{
    /// <summary>Names the task in logs, metrics and dead letters (default: the URL as written).</summary>
    public string? Id { get; set; }

    /// <summary>Free text (pikachu's task name).</summary>
    public string? Name { get; set; }

    /// <summary><c>table</c> (any database), <c>database.table</c>, or a pattern with <c>*</c> (<c>shop.*</c>, <c>*</c>).</summary>
    public string Table { get; set; } = "";

    /// <summary>insert, update, delete, read (default: all four).</summary>
    public List<string> Events { get; set; } = ["insert", "update", "delete", "read"];

    /// <summary>Absolute http(s) URL, or a path joined to <c>callback_host</c>.</summary>
    public string Url { get; set; } = "";

    /// <summary>Extra request headers.</summary>
    public Dictionary<string, string> Headers { get; set; } = [];

    public WebhookAuthOptions? Auth { get; set; }
}

/// <summary><c>auth: { bearer: TOKEN }</c> or <c>auth: { basic: { username: U, password: P } }</c>.</summary>
public sealed class WebhookAuthOptions
{
    public string? Bearer { get; set; }
    public BasicAuthOptions? Basic { get; set; }
}

public sealed class BasicAuthOptions
{
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
}
