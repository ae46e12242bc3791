using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>
/// Loads <c>pluginhost.yaml</c>: YAML → environment overrides (<c>PLUGINHOST__SECTION__KEY</c>, pipelines by index
/// or name) → <c>${ENV}</c> / <c>${ENV:-default}</c> substitution → strict binding (unknown keys are errors) →
/// validation. Every problem is collected and reported together, each naming file, pipeline and key.
/// </summary>
internal static partial class ConfigLoader
{
    public const string EnvironmentPrefix = "PLUGINHOST__";

    /// <summary>Loads and validates a configuration file.</summary>
    /// <param name="sinkTypes">Known sink types, to reject unknown ones at load time (null: not checked).</param>
    /// <param name="secretsOptional">An unset <c>${VAR}</c> under a secret key (<see cref="Secrets.IsSecretKey"/>: a password,
    /// the admin token…) reads as empty instead of being an error — for commands that run nothing (<c>pluginhost check</c>).</param>
    public static HostConfig Load(string path, IReadOnlyDictionary<string, string>? environment = null, ISet<string>? sinkTypes = null, bool secretsOptional = false)
    {
        // go-mysql-kafka (prensio): a .toml file or a directory of them.
        if (Prensio.PrensioConfig.Handles(path)) return Prensio.PrensioConfig.Load(path, environment, sinkTypes, secretsOptional);
        if (!File.Exists(path))
            throw new ConfigException([new ConfigError(path, null, "(file)", "not found")]);
        if (new FileInfo(path).Length > InputLimits.MaxFileBytes)
            throw new ConfigException([new ConfigError(path, null, "(file)", $"is larger than {InputLimits.MaxFileBytes >> 20} MiB; a configuration is a few KB")]);
        var text = File.ReadAllText(path);
        return PikachuConfig.TryLoad(text, path, environment, sinkTypes, secretsOptional) ?? Parse(text, path, environment, sinkTypes, secretsOptional);
    }

    /// <summary>Parses and validates configuration text; <paramref name="fileName"/> is used in errors and for relative paths.</summary>
    public static HostConfig Parse(string yaml, string fileName, IReadOnlyDictionary<string, string>? environment = null, ISet<string>? sinkTypes = null,
        bool secretsOptional = false)
    {
        var env = environment ?? ReadEnvironment();
        var errors = new List<ConfigError>();
        var root = YamlToJson.Parse(yaml, fileName, errors);
        if (root is null && errors.Count > 0) throw new ConfigException(errors);
        if (root is not JsonObject obj)
            throw new ConfigException([.. errors, new ConfigError(fileName, null, "(root)", "the file must be a YAML mapping")]);
        ApplyEnvironmentOverrides(obj, env);
        Substitute(obj, "", fileName, env, errors, secretsOptional);
        ClusterRules.ApplyDefaults(obj);
        QueueDefaults.Apply(obj);
        var bindErrors = new List<SinkConfigurationException>();
        var options = SettingsBinder.Bind<HostOptions>(ToElement(obj), bindErrors);
        foreach (var e in bindErrors) errors.Add(new ConfigError(fileName, null, e.Key, e.Message[(e.Key.Length + 2)..]));
        // Errors found before binding (YAML, ${…}) and by the binder name the pipeline by its index: name it.
        for (var i = 0; i < errors.Count; i++)
            if (errors[i].Pipeline is null) errors[i] = ToConfigError(fileName, errors[i].Key, errors[i].Message, obj);
        ClusterRules.Validate(options, fileName, errors);
        var pipelines = Validate(options, fileName, sinkTypes, errors, secretsOptional);
        if (errors.Count > 0) throw new ConfigException(errors) { Partial = new HostConfig(options, fileName, pipelines) };
        return new HostConfig(options, fileName, pipelines);
    }

    /// <summary>
    /// The node as the element the serializer made of it (<c>JsonSerializer.SerializeToElement</c>: the node written
    /// and read back), without starting the serializer's reflection on the way to a start (its converters' JIT).
    /// </summary>
    private static JsonElement ToElement(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) node.WriteTo(w);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>Parses one pipeline (e.g. from the REST API, JSON or YAML) with the same rules as the file.</summary>
    public static PipelineDefinition ParsePipeline(string text, string source, HostConfig current, ISet<string>? sinkTypes = null)
    {
        var errors = new List<ConfigError>();
        var node = YamlToJson.Parse(text, source, errors); // JSON is YAML
        if (node is not JsonObject obj)
        {
            if (errors.Count == 0) errors.Add(new ConfigError(source, null, "(body)", "a pipeline must be a mapping"));
            throw new ConfigException(errors);
        }
        var env = ReadEnvironment();
        Substitute(obj, "", source, env, errors, false);
        if (current.Options.Cluster != null) ClusterRules.ApplyPipelineDefaults(obj);
        QueueDefaults.ApplyPipeline(obj);
        var bindErrors = new List<SinkConfigurationException>();
        var p = SettingsBinder.Bind<PipelineOptions>(ToElement(obj), bindErrors);
        foreach (var e in bindErrors) errors.Add(new ConfigError(source, p.Name.Length > 0 ? p.Name : null, e.Key, e.Message[(e.Key.Length + 2)..]));
        if (current.Options.Cluster is { } cluster) ClusterRules.ValidatePipeline(cluster, p, source, errors);
        var options = new HostOptions { Pipelines = [p], Cluster = current.Options.Cluster };
        var defs = Validate(options, source, sinkTypes, errors);
        if (errors.Count > 0) throw new ConfigException(errors);
        return defs[0];
    }

    private static ConfigError ToConfigError(string file, string key, string message, JsonObject root)
    {
        var m = PipelineIndex().Match(key);
        if (!m.Success) return new ConfigError(file, null, key, message);
        var index = int.Parse(m.Groups[1].Value);
        var name = NameOf((root["pipelines"] as JsonArray)?.ElementAtOrDefault(index)) is { Length: > 0 } n ? n : $"#{index}";
        var rest = key[m.Length..].TrimStart('.');
        return new ConfigError(file, name, rest.Length == 0 ? key : rest, message);
    }

    /// <summary>The <c>name</c> of a pipeline node, when it is a mapping with a text name.</summary>
    private static string? NameOf(JsonNode? pipeline) =>
        pipeline is JsonObject o && o["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    [GeneratedRegex(@"^pipelines\[(\d+)\]")]
    private static partial Regex PipelineIndex();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex EnvReference();

    private static IReadOnlyDictionary<string, string> ReadEnvironment()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) d[(string)e.Key] = (string?)e.Value ?? "";
        return d;
    }

    private static void ApplyEnvironmentOverrides(JsonObject root, IReadOnlyDictionary<string, string> env)
    {
        foreach (var (key, value) in env.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)) continue;
            // Keys are matched in lower case (YAML keys are snake_case); pipeline names keep their case.
            var raw = key[EnvironmentPrefix.Length..].Split("__", StringSplitOptions.RemoveEmptyEntries);
            var segments = raw.Select(s => s.ToLowerInvariant()).ToArray();
            if (segments.Length == 0) continue;
            JsonNode current = root;
            for (var i = 0; i < segments.Length; i++)
            {
                var last = i == segments.Length - 1;
                var seg = segments[i];
                if (current is JsonObject o)
                {
                    if (last) { o[seg] = JsonValue.Create(value); break; }
                    if (o[seg] is not JsonNode next)
                    {
                        next = int.TryParse(segments[i + 1], out _) ? new JsonArray() : new JsonObject();
                        o[seg] = next;
                    }
                    current = next;
                }
                else if (current is JsonArray a)
                {
                    JsonNode? item = int.TryParse(seg, out var index)
                        ? index < a.Count ? a[index] : null
                        : a.FirstOrDefault(x => string.Equals(NameOf(x), raw[i], StringComparison.OrdinalIgnoreCase));
                    if (item is null)
                    {
                        if (!int.TryParse(seg, out index) || index != a.Count) break; // can only append the next index
                        item = last ? JsonValue.Create(value) : new JsonObject();
                        a.Add(item);
                        if (last) break;
                    }
                    else if (last)
                    {
                        a[a.IndexOf(item)] = JsonValue.Create(value);
                        break;
                    }
                    current = item;
                }
                else break;
            }
        }
    }

    private static void Substitute(JsonNode node, string path, string file, IReadOnlyDictionary<string, string> env, List<ConfigError> errors, bool secretsOptional)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    var p = path.Length == 0 ? k : $"{path}.{k}";
                    if (v is JsonValue val && val.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal))
                        o[k] = JsonValue.Create(Expand(s, p, file, env, errors, secretsOptional));
                    else if (v != null) Substitute(v, p, file, env, errors, secretsOptional);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    var p = $"{path}[{i}]";
                    if (a[i] is JsonValue val && val.TryGetValue<string>(out var s) && s.Contains("${", StringComparison.Ordinal))
                        a[i] = JsonValue.Create(Expand(s, p, file, env, errors, secretsOptional));
                    else if (a[i] is { } child) Substitute(child, p, file, env, errors, secretsOptional);
                }
                break;
        }
    }

    private static string Expand(string s, string path, string file, IReadOnlyDictionary<string, string> env, List<ConfigError> errors, bool secretsOptional) =>
        EnvReference().Replace(s, m =>
        {
            var set = env.TryGetValue(m.Groups[1].Value, out var v);
            if (m.Groups[2].Success && string.IsNullOrEmpty(v)) return m.Groups[2].Value; // ${X:-d}: d when X is unset or empty
            if (set) return v!;
            if (secretsOptional && Secrets.IsSecretPath(path)) return "";
            errors.Add(new ConfigError(file, null, path, $"environment variable {m.Groups[1].Value} is not set"));
            return "";
        });

    private static List<PipelineDefinition> Validate(HostOptions options, string file, ISet<string>? sinkTypes, List<ConfigError> errors, bool secretsOptional = false)
    {
        var result = new List<PipelineDefinition>();
        if (!System.Net.IPEndPoint.TryParse(options.Server.Listen, out _) && !options.Server.Listen.StartsWith("localhost:", StringComparison.Ordinal))
            errors.Add(new ConfigError(file, null, "server.listen", $"'{options.Server.Listen}' is not host:port"));
        if (options.Log.Level.ToLowerInvariant() is not ("trace" or "debug" or "info" or "information" or "warn" or "warning" or "error"))
            errors.Add(new ConfigError(file, null, "log.level", "must be trace, debug, info, warn or error"));
        if (options.Memory.Gen0Budget is not 0 and (< 256 * 1024 or > 1L << 30))
            errors.Add(new ConfigError(file, null, "memory.gen0_budget", "must be 0 (the runtime decides) or 262144-1073741824 (bytes)"));
        // (Reading a file for `check`, whose secret variables may be unset, the server's token does not matter: it serves nothing.)
        if (!secretsOptional) AdminTokenRules.Validate(options.Server, file, errors);
        if (options.Log.Format.ToLowerInvariant() is not ("text" or "json"))
            errors.Add(new ConfigError(file, null, "log.format", "must be text or json"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        var serverIds = new Dictionary<(string, int, uint), string>();
        for (var i = 0; i < options.Pipelines.Count; i++)
        {
            var p = options.Pipelines[i];
            var name = p.Name.Length > 0 ? p.Name : $"#{i}";
            void Error(string key, string message) => errors.Add(new ConfigError(file, name, key, message));
            if (p.Name.Length == 0) Error("name", "is required");
            else if (!ValidName().IsMatch(p.Name)) Error("name", "may use letters, digits, '-', '_' and '.' only");
            else if (!names.Add(p.Name)) Error("name", "is used by another pipeline");

            var s = p.Source;
            if (s.Host.Length == 0) Error("source.host", "is required");
            if (s.Port is < 1 or > 65535) Error("source.port", "must be 1-65535");
            if (s.User.Length == 0) Error("source.user", "is required");
            if (s.ServerId == 0) Error("source.server_id", "is required and must be > 0 (unique among the server's replicas)");
            else if (serverIds.TryGetValue((s.Host, s.Port, s.ServerId), out var other))
                Error("source.server_id", $"{s.ServerId} is also used by pipeline '{other}' on the same server; each needs its own");
            else serverIds[(s.Host, s.Port, s.ServerId)] = name;
            var ssl = ParseSsl(s.Ssl);
            if (ssl is null) Error("source.ssl", "must be none, preferred, required, verify_ca or verify_full");
            var start = ParseStart(s.Start, Error);

            foreach (var (pattern, key) in p.Filter.Include.Select((x, j) => (x, $"filter.include[{j}]")).Concat(p.Filter.Exclude.Select((x, j) => (x, $"filter.exclude[{j}]"))))
                if (!EventFilter.IsValidPattern(pattern)) Error(key, $"'{pattern}' is not a database.table pattern");
            var regex = p.Filter.Regex.IsEmpty ? null : p.Filter.Regex.Compile(Error);
            var ops = new List<ChangeOperation>();
            for (var j = 0; j < p.Filter.Events.Count; j++)
            {
                switch (p.Filter.Events[j].ToLowerInvariant())
                {
                    case "insert": ops.Add(ChangeOperation.Insert); break;
                    case "update": ops.Add(ChangeOperation.Update); break;
                    case "delete": ops.Add(ChangeOperation.Delete); break;
                    case "read": ops.Add(ChangeOperation.Read); break;
                    default: Error($"filter.events[{j}]", $"'{p.Filter.Events[j]}' is not insert, update, delete or read"); break;
                }
            }
            var onError = p.OnError.ToLowerInvariant().Replace("-", "_") switch
            {
                "stop" => OnErrorPolicy.Stop,
                "skip" => OnErrorPolicy.Skip,
                "dead_letter" => OnErrorPolicy.DeadLetter,
                _ => (OnErrorPolicy?)null,
            };
            if (onError is null) Error("on_error", "must be stop, skip or dead_letter");
            if (onError == OnErrorPolicy.DeadLetter && string.IsNullOrEmpty(p.DeadLetter))
                Error("dead_letter", "is required with on_error: dead_letter (a .jsonl file path)");
            if (p.BatchSize is < 1 or > 1_000_000) Error("batch_size", "must be 1-1000000");
            if (p.QueueChunks is < 1 or > 100_000) Error("queue_chunks", "must be 1-100000");
            if (p.QueueBytes is < 64 * 1024 or > 16L << 30) Error("queue_bytes", "must be 65536-17179869184 (bytes)");
            if (p.InFlightEvents is < 1 or > 10_000_000) Error("in_flight_events", "must be 1-10000000");
            if (p.InFlightBytes is < 64 * 1024 or > 64L << 30) Error("in_flight_bytes", "must be 65536-68719476736 (bytes)");
            if (p.DrainTimeout < TimeSpan.Zero || p.DrainTimeout > TimeSpan.FromHours(1)) Error("drain_timeout", "must be 0s-1h");
            if (p.Checkpoint.Type.Length == 0) Error("checkpoint.type", "is required");
            if (options.Cluster != null) ClusterRules.Complete(options.Cluster, p);
            if (p.Checkpoint.HistoryInterval < TimeSpan.Zero || p.Checkpoint.HistoryInterval > TimeSpan.FromDays(1))
                Error("checkpoint.history_interval", "must be 0s-24h");

            var snapshot = SnapshotRules.Validate(p.Snapshot, start, p.Filter.Events, Error);

            string sinkType = "";
            if (p.Sink.ValueKind != JsonValueKind.Object) Error("sink", "is required: a mapping with a type, e.g. { type: file, path: out.jsonl }");
            else if (!p.Sink.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String || t.GetString()!.Length == 0)
                Error("sink.type", "is required");
            else
            {
                sinkType = t.GetString()!;
                if (sinkTypes != null && !sinkTypes.Contains(sinkType))
                    Error("sink.type", $"unknown sink type '{sinkType}' (known: {string.Join(", ", sinkTypes.Order())})");
                if (p.Sink.TryGetProperty("exactly_once", out var eos) && (eos.ValueKind == JsonValueKind.True || eos.ValueKind == JsonValueKind.String && eos.GetString() is "true" or "True") &&
                    p.Checkpoint.Type != "kafka")
                    Error("sink.exactly_once", $"needs the checkpoint in Kafka (checkpoint: {{ type: kafka }}, or cluster mode): the '{p.Checkpoint.Type}' store cannot be committed in the sink's transaction");
            }
            TransformRules.Validate(p.Transform, Error, out var transformPath, out var transformRules);

            var connection = new ConnectionOptions
            {
                Host = s.Host,
                Port = s.Port,
                User = s.User,
                Password = s.Password,
                SslMode = ssl ?? SslMode.Preferred,
                SslCaFile = s.SslCa,
                ConnectTimeout = s.ConnectTimeout,
            };
            result.Add(new PipelineDefinition(p, connection, start ?? BinlogStart.Latest,
                new EventFilter(p.Filter.Include, p.Filter.Exclude, ops, regex), sinkType, p.Sink.ValueKind == JsonValueKind.Object ? p.Sink.Clone() : default,
                transformPath, onError ?? OnErrorPolicy.Stop, p.DeadLetter) { Snapshot = snapshot, TransformRules = transformRules });
        }
        return result;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]+$")]
    private static partial Regex ValidName();

    private static SslMode? ParseSsl(string s) => s.ToLowerInvariant().Replace("-", "_") switch
    {
        "none" or "disabled" or "off" or "false" => SslMode.None,
        "preferred" => SslMode.Preferred,
        "required" or "true" => SslMode.Required,
        "verify_ca" => SslMode.VerifyCa,
        "verify_full" or "verify_identity" => SslMode.VerifyFull,
        _ => null,
    };

    private static string? Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    private static BinlogStart? ParseStart(JsonElement start, Action<string, string> error)
    {
        switch (start.ValueKind)
        {
            case JsonValueKind.Undefined:
            case JsonValueKind.Null:
                return BinlogStart.Latest;
            case JsonValueKind.String:
                switch (start.GetString())
                {
                    case "latest": return BinlogStart.Latest;
                    case "earliest": return BinlogStart.Earliest;
                    default:
                        error("source.start", $"'{start.GetString()}' is not latest, earliest, {{ gtid: … }} or {{ file: …, pos: … }}");
                        return null;
                }
            case JsonValueKind.Object:
            {
                var keys = start.EnumerateObject().Select(p => p.Name).ToHashSet();
                if (keys.SetEquals(["gtid"]) && Text(start.GetProperty("gtid")) is { Length: > 0 } gtid)
                {
                    if (Binlog.Gtid.MariaDbGtidList.TryParse(gtid, out _) || Binlog.Gtid.MySqlGtidSet.TryParse(gtid, out _))
                        return BinlogStart.AtGtid(gtid);
                    error("source.start.gtid", $"'{gtid}' is neither a MariaDB GTID (0-1-42) nor a MySQL GTID set (uuid:1-42)");
                    return null;
                }
                if (keys.SetEquals(["file", "pos"]) || keys.SetEquals(["file"]))
                {
                    var file = Text(start.GetProperty("file"));
                    long pos = 4;
                    if (start.TryGetProperty("pos", out var p) && !(p.ValueKind == JsonValueKind.Number ? p.TryGetInt64(out pos) : long.TryParse(Text(p), out pos)))
                    {
                        error("source.start.pos", "must be a whole number");
                        return null;
                    }
                    if (string.IsNullOrEmpty(file) || pos < 4)
                    {
                        error("source.start", "file must be a binlog file name and pos ≥ 4");
                        return null;
                    }
                    return BinlogStart.At(file, pos);
                }
                error("source.start", "must be latest, earliest, { gtid: … } or { file: …, pos: … }");
                return null;
            }
            default:
                error("source.start", "must be latest, earliest, { gtid: … } or { file: …, pos: … }");
                return null;
        }
    }
}
