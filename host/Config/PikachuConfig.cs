using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PluginHost.Config;

/// <summary>
/// Migration from pikachu (github.com/tiyee/pikachu): reads its <c>config.yaml</c> (database, log, server, dispatcher,
/// monitor, callback_host) and the sibling <c>tasks.yaml</c> (or inline <c>tasks</c>) and translates them into one
/// pluginhost configuration with a single <c>webhook</c> pipeline named <c>pikachu</c> (format <c>pikachu</c>, so
/// receivers get the payload they know). Keys without an equivalent are reported as warnings, never silently dropped.
/// </summary>
internal static class PikachuConfig
{
    /// <summary>The name of the one pipeline a pikachu configuration becomes.</summary>
    public const string PipelineName = "pikachu";

    private static readonly string[] PikachuOnlyKeys = ["database", "dispatcher", "monitor", "callback_host", "tasks"];

    /// <summary>
    /// The <see cref="ConfigLoader.Load"/> hook: when <paramref name="text"/> is a pikachu <c>config.yaml</c>, translates
    /// it (with its <c>tasks.yaml</c>) and validates the result like any configuration; otherwise returns null. Errors
    /// name pikachu's keys where they map one to one; <see cref="HostConfig.Warnings"/> lists what was not carried over.
    /// </summary>
    public static HostConfig? TryLoad(string text, string path, IReadOnlyDictionary<string, string>? environment, ISet<string>? sinkTypes,
        bool secretsOptional = false)
    {
        var yamlErrors = new List<ConfigError>();
        var root = YamlToJson.Parse(text, path, yamlErrors);
        if (yamlErrors.Count > 0 || !IsPikachu(root)) return null; // not ours: the normal loader reports any YAML error
        var warnings = new List<string>();
        var json = Translate((JsonObject)root!, path, warnings);
        HostConfig config;
        try
        {
            config = ConfigLoader.Parse(json, path, environment, sinkTypes, secretsOptional);
        }
        catch (ConfigException e)
        {
            throw new ConfigException(e.Errors.Select(ToPikachuKeys).ToList()) { Partial = e.Partial, NameKeys = ToPikachuKeys };
        }
        config.Warnings = [.. warnings.Select(w => "warning: " + w), .. Notes.Select(n => "note: " + n)];
        return config;
    }

    private static readonly (string Ours, string Theirs)[] KeyMap =
    [
        ("source.host", "database.host"), ("source.port", "database.port"), ("source.user", "database.user"),
        ("source.password", "database.password"), ("source.server_id", "database.server_id"),
        ("source.connect_timeout", "database.connect_timeout"), ("source.heartbeat", "database.read_timeout"),
        ("server.listen", "server.port"), ("log.level", "log.level"), ("log.format", "log.format"),
        ("sink.worker_count", "dispatcher.worker_count"), ("sink.max_connections", "dispatcher.max_connections"),
        ("sink.timeout", "dispatcher.timeout"), ("sink.max_retries", "dispatcher.max_retries"),
        ("sink.retry_base_delay", "dispatcher.retry_base_delay"), ("sink.retry_max_delay", "dispatcher.retry_max_delay"),
        ("sink.callback_host", "callback_host"),
    ];

    /// <summary>Renames an error's key from the translated configuration back to the pikachu key it came from.</summary>
    public static ConfigError ToPikachuKeys(ConfigError e)
    {
        foreach (var (ours, theirs) in KeyMap)
            if (e.Key == ours || e.Key.StartsWith(ours + ".", StringComparison.Ordinal) || e.Key.StartsWith(ours + "[", StringComparison.Ordinal))
                return e with { Pipeline = null, Key = theirs + e.Key[ours.Length..] };
        if (e.Key.StartsWith("sink.tasks[", StringComparison.Ordinal))
            return e with
            {
                Pipeline = null,
                Key = e.Key[5..].Replace(".url", ".callback_url").Replace(".table", ".table_name").Replace(".id", ".task_id"),
            };
        return e;
    }

    /// <summary>True when a YAML root looks like pikachu's config: no <c>pipelines</c>, and one of its own top-level keys.</summary>
    public static bool IsPikachu(JsonNode? root) =>
        root is JsonObject o && !o.ContainsKey("pipelines") && PikachuOnlyKeys.Any(o.ContainsKey);

    /// <summary>
    /// Translates a pikachu configuration. <paramref name="configPath"/> locates the sibling <c>tasks.yaml</c>. Returns
    /// the pluginhost configuration as JSON text (JSON is YAML, so <see cref="ConfigLoader.Parse"/> reads it with every
    /// usual rule: environment overrides, validation); appends to <paramref name="warnings"/> what was not carried over.
    /// </summary>
    public static string Translate(JsonObject root, string configPath, List<string> warnings)
    {
        var errors = new List<ConfigError>();
        var file = configPath;
        void Warn(string key, string message) => warnings.Add($"{key}: {message}");
        void Error(string key, string message) => errors.Add(new ConfigError(file, null, key, message));

        var db = Section(root, "database", Error);
        var log = Section(root, "log", Error);
        var server = Section(root, "server", Error);
        var dispatcher = Section(root, "dispatcher", Error);
        var monitor = Section(root, "monitor", Error);
        foreach (var (key, _) in root)
            if (key is not ("database" or "log" or "server" or "dispatcher" or "monitor" or "callback_host" or "tasks"))
                Warn(key, "not a pikachu setting pluginhost knows; ignored");

        // database → source (+ filter on the monitored database)
        var source = new JsonObject();
        string database = "";
        foreach (var (key, value) in db)
        {
            var k = "database." + key;
            switch (key)
            {
                case "host": source["host"] = Text(value); break;
                case "port": source["port"] = Text(value); break;
                case "user": source["user"] = Text(value); break;
                case "password": source["password"] = Text(value) ?? ""; break;
                case "server_id": source["server_id"] = Text(value); break;
                case "database": database = Text(value) ?? ""; break;
                case "connect_timeout":
                    if (Duration(value, k, Error) is { } ct) source["connect_timeout"] = Ms(ct);
                    break;
                case "read_timeout":
                    // pikachu sends heartbeats every read_timeout / 2 to notice a dead connection; so do we.
                    if (Duration(value, k, Error) is { } rt && rt > TimeSpan.Zero) source["heartbeat"] = Ms(rt / 2);
                    break;
                case "charset":
                    if (!string.Equals(Text(value), "utf8mb4", StringComparison.OrdinalIgnoreCase))
                        Warn(k, $"ignored ('{Text(value)}'): text is decoded with each column's own character set from the binlog");
                    break;
                default: Warn(k, "unknown database setting; ignored"); break;
            }
        }
        if (database.Length == 0) Error("database.database", "is required: the database whose tables the tasks name");

        // tasks: tasks.yaml beside config.yaml (pikachu falls back to inline tasks only when the file is missing)
        var tasksPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", "tasks.yaml");
        JsonArray? tasks = null;
        var tasksFile = configPath;
        if (File.Exists(tasksPath))
        {
            var tasksErrors = new List<ConfigError>();
            var tasksRoot = YamlToJson.Parse(File.ReadAllText(tasksPath), tasksPath, tasksErrors);
            errors.AddRange(tasksErrors);
            if (tasksRoot is JsonObject t)
            {
                foreach (var (key, _) in t)
                    if (key != "tasks") warnings.Add($"{tasksPath}: {key}: not a tasks.yaml setting; ignored");
                tasks = t["tasks"] as JsonArray;
                if (t["tasks"] is not null and not JsonArray) errors.Add(new ConfigError(tasksPath, null, "tasks", "must be a list"));
            }
            else if (tasksErrors.Count == 0) errors.Add(new ConfigError(tasksPath, null, "(root)", "must be a mapping with a tasks list"));
            tasksFile = tasksPath;
            if (root["tasks"] is not null) Warn("tasks", $"ignored: {tasksPath} exists and takes precedence (as in pikachu)");
        }
        else if (root["tasks"] is JsonArray inline) tasks = inline;
        else if (root["tasks"] is not null) Error("tasks", "must be a list");
        if (tasks is null || tasks.Count == 0)
            Error("tasks", $"no tasks: pikachu reads them from {tasksPath} (or a tasks list in {Path.GetFileName(configPath)})");

        var sinkTasks = new JsonArray();
        var tables = new List<string>();
        for (var i = 0; i < (tasks?.Count ?? 0); i++)
        {
            var k = $"tasks[{i}]";
            if (tasks![i] is not JsonObject task)
            {
                errors.Add(new ConfigError(tasksFile, null, k, "must be a mapping (task_id, name, table_name, events, callback_url)"));
                continue;
            }
            var t = new JsonObject();
            foreach (var (key, value) in task)
            {
                switch (key)
                {
                    case "task_id": t["id"] = Text(value); break;
                    case "name": t["name"] = Text(value); break;
                    case "table_name":
                        var table = Text(value) ?? "";
                        if (table.Length == 0) errors.Add(new ConfigError(tasksFile, null, $"{k}.table_name", "is required"));
                        tables.Add(table);
                        // Qualified with the monitored database: pikachu only watches that one.
                        t["table"] = database.Length > 0 ? $"{database}.{table}" : table;
                        break;
                    case "events": t["events"] = value?.DeepClone(); break;
                    case "callback_url": t["url"] = Text(value); break;
                    default: warnings.Add($"{tasksFile}: {k}.{key}: not a pikachu task setting; ignored"); break;
                }
            }
            if (t["id"] is null || Text(t["id"]) is not { Length: > 0 })
                errors.Add(new ConfigError(tasksFile, null, $"{k}.task_id", "is required"));
            if (t["events"] is null or JsonArray { Count: 0 })
                errors.Add(new ConfigError(tasksFile, null, $"{k}.events", "must list insert, update and/or delete"));
            sinkTasks.Add(t);
        }

        // dispatcher → the webhook sink, with pikachu's defaults
        var sink = new JsonObject
        {
            ["type"] = "webhook",
            ["format"] = "pikachu",
            ["worker_count"] = "20",
            ["max_connections"] = "100",
            ["timeout"] = "30s",
            ["max_retries"] = "3",
            ["retry_base_delay"] = "5s",
            ["retry_max_delay"] = "60s",
            // pikachu drops an event whose retries run out; we keep it in a file that `pluginhost deadletter replay` re-sends.
            ["dead_letter"] = "state/pikachu.deadletter.jsonl",
        };
        if (root["callback_host"] is { } host) sink["callback_host"] = Text(host);
        foreach (var (key, value) in dispatcher)
        {
            var k = "dispatcher." + key;
            switch (key)
            {
                case "worker_count":
                case "max_retries":
                case "max_connections":
                    if (Text(value) is { } n && n != "0") sink[key] = n; // pikachu: 0 means the default
                    break;
                case "timeout":
                case "retry_base_delay":
                case "retry_max_delay":
                    if (Duration(value, k, Error) is { } d && d > TimeSpan.Zero) sink[key] = Ms(d);
                    break;
                case "queue_size":
                    Warn(k, "ignored: queues are bounded inside pluginhost and slow the binlog reader down when full (nothing is dropped)");
                    break;
                case "max_idle_conns":
                case "idle_conn_timeout":
                    Warn(k, "ignored: idle connections are pooled automatically (max_connections still applies)");
                    break;
                case "shutdown_timeout":
                    Warn(k, "ignored: on shutdown pluginhost waits up to 30 s for deliveries; whatever is left is sent again after the restart (the position is checkpointed)");
                    break;
                case "batch_size":
                case "batch_timeout":
                    Warn(k, "ignored (deprecated in pikachu); pluginhost sends one event per request unless the sink's batch_size says otherwise");
                    break;
                default: Warn(k, "unknown dispatcher setting; ignored"); break;
            }
        }
        foreach (var (key, _) in monitor)
        {
            var k = "monitor." + key;
            switch (key)
            {
                case "event_queue_size":
                    Warn(k, "ignored: the queue between binlog reader and webhooks is bounded by pluginhost (queue_chunks)");
                    break;
                case "event_queue_timeout":
                    Warn(k, "ignored: a full queue makes the reader wait; events are never dropped");
                    break;
                case "batch_size":
                case "batch_timeout":
                case "flush_interval":
                    Warn(k, "ignored (deprecated in pikachu)");
                    break;
                default: Warn(k, "unknown monitor setting; ignored"); break;
            }
        }

        // log, server
        var logOut = new JsonObject();
        foreach (var (key, value) in log)
        {
            var k = "log." + key;
            switch (key)
            {
                case "level":
                    var level = Text(value)?.ToLowerInvariant();
                    if (level is "fatal" or "panic")
                    {
                        Warn(k, $"'{level}' is logged as error");
                        level = "error";
                    }
                    if (level is { Length: > 0 }) logOut["level"] = level;
                    break;
                case "format": logOut["format"] = Text(value); break;
                case "directory":
                case "max_size":
                case "max_backups":
                case "max_age":
                    Warn(k, "ignored: pluginhost logs to stderr (collect or rotate it with the service manager)");
                    break;
                default: Warn(k, "unknown log setting; ignored"); break;
            }
        }
        var serverOut = new JsonObject { ["enabled"] = "false" };
        var enabled = server["enabled"] is { } en && string.Equals(Text(en), "true", StringComparison.OrdinalIgnoreCase);
        var port = server["port"] is { } p && Text(p) is { Length: > 0 } ps && ps != "0" ? ps : "8080";
        foreach (var (key, value) in server)
        {
            switch (key)
            {
                case "enabled":
                case "port":
                    break;
                case "path":
                    if (Text(value) is { Length: > 0 } path && path != "/health")
                        Warn("server.path", $"'{path}' is not supported: health is served at /health");
                    break;
                default: Warn("server." + key, "unknown server setting; ignored"); break;
            }
        }
        if (enabled)
        {
            serverOut["enabled"] = "true";
            serverOut["listen"] = $"127.0.0.1:{port}";
            Warn("server", $"health is served on 127.0.0.1:{port}/health (pikachu listened on all interfaces; this port also serves pluginhost's REST API): " +
                           $"to expose it set PLUGINHOST__SERVER__ADMIN_TOKEN and PLUGINHOST__SERVER__LISTEN=0.0.0.0:{port}");
            Warn("server", "pikachu's JSON metrics are served at /metrics.json; /metrics here is Prometheus text (point JSON scrapers at /metrics.json)");
        }

        if (errors.Count > 0) throw new ConfigException(errors);

        var include = new JsonArray();
        if (database.Contains('.') || tables.Any(t => t.Contains('.') || t.Contains('*') || t.Contains('?')))
            include.Add(database.Contains('.') ? "*.*" : $"{database}.*");
        else
            foreach (var t in tables.Distinct(StringComparer.Ordinal)) include.Add($"{database}.{t}");
        sink["tasks"] = sinkTasks;
        var pipeline = new JsonObject
        {
            ["name"] = PipelineName,
            ["source"] = source,
            ["filter"] = new JsonObject { ["include"] = include },
            ["sink"] = sink,
        };
        var result = new JsonObject
        {
            ["server"] = serverOut,
            ["state_dir"] = "state",
            // The plugins shipped with pluginhost (the webhook sink among them), not a folder beside pikachu's config.
            ["plugins_dir"] = PluginDirectories.BuiltPlugins,
            ["pipelines"] = new JsonArray(pipeline),
        };
        if (logOut.Count > 0) result["log"] = logOut;
        return result.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Notes printed at start about how the run differs from pikachu (not problems).</summary>
    public static IReadOnlyList<string> Notes { get; } =
    [
        "running pikachu's configuration as pluginhost pipeline 'pikachu' (webhook sink, format: pikachu)",
        "the binlog position is checkpointed under state/ and resumed after a restart (pikachu always started at the current position)",
        "events of one row are delivered in commit order; events whose retries run out go to state/pikachu.deadletter.jsonl (pikachu dropped them); re-send with: pluginhost deadletter replay state/pikachu.deadletter.jsonl (in config.yaml's folder; or add --config <config.yaml>)",
    ];

    private static JsonObject Section(JsonObject root, string name, Action<string, string> error)
    {
        switch (root[name])
        {
            case null: return new JsonObject();
            case JsonObject o: return o;
            default:
                error(name, "must be a mapping");
                return new JsonObject();
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";

    /// <summary>A Go duration (<c>300ms</c>, <c>1.5h</c>, <c>1m30s</c>); a bare number is refused (Go would read nanoseconds).</summary>
    private static TimeSpan? Duration(JsonNode? node, string key, Action<string, string> error)
    {
        var text = Text(node)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (TryParseGoDuration(text, out var d)) return d;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            error(key, $"'{text}' has no unit (pikachu reads a bare number as nanoseconds); write e.g. {text}s");
        else error(key, $"'{text}' is not a duration (e.g. 500ms, 30s, 1m30s)");
        return null;
    }

    /// <summary>Parses Go's <c>time.ParseDuration</c> syntax: [-]{number unit}…, units ns, us, µs, ms, s, m, h.</summary>
    public static bool TryParseGoDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text == "0") return true;
        var i = 0;
        var negative = false;
        if (i < text.Length && text[i] is '-' or '+') negative = text[i++] == '-';
        if (i == text.Length) return false;
        double totalMs = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            double ms = text[unitStart..i] switch
            {
                "ns" => 1e-6,
                "us" or "µs" or "μs" => 1e-3,
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => double.NaN,
            };
            if (double.IsNaN(ms)) return false;
            totalMs += n * ms;
        }
        value = TimeSpan.FromMilliseconds(negative ? -totalMs : totalMs);
        return true;
    }
}
