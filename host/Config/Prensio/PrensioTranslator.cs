using System.Text.Json.Nodes;

namespace PluginHost.Config.Prensio;

/// <summary>
/// Translates one go-mysql-kafka (prensio) pipeline file — <c>[mysql]</c>, <c>[source_rules]</c>,
/// <c>[[transform_rule]]</c>, <c>[kafka_sink]</c>, <c>[state_tracking]</c> — into one pluginhost pipeline (JSON):
/// the source, a regex filter, a chain of JavaScript rules, a Kafka sink with <c>format: prensio</c> and a
/// <c>prensio</c> checkpoint (kept in Kafka, first read from prensio's state topic). Unknown keys and bad values are
/// errors naming file, line and key; what is ignored or treated differently is a warning.
/// </summary>
internal static class PrensioTranslator
{
    /// <summary>The pipeline of one file, or null when the file has errors (added to <paramref name="errors"/>).</summary>
    /// <param name="ruleIndexes">For each rule of the result, the index of the <c>[[transform_rule]]</c> it came from.</param>
    public static JsonObject? Translate(TomlDocument doc, string file, List<ConfigError> errors, List<string> warnings, List<int> ruleIndexes)
    {
        var before = errors.Count;
        void Error(string key, string message) => errors.Add(new ConfigError($"{file}:{doc.LineOf(key)}", null, key, message));
        void Warn(string key, string message) => warnings.Add($"{file}:{doc.LineOf(key)}: {key}: {message}");

        var root = doc.Root;
        foreach (var (key, _) in root)
            if (key is not ("mysql" or "source_rules" or "transform_rule" or "kafka_sink" or "state_tracking"))
                Error(key, "is not a go-mysql-kafka (prensio) setting (known: [mysql], [source_rules], [[transform_rule]], [kafka_sink], [state_tracking])");

        var mysql = Table(root, "mysql", Error);
        var rules = Table(root, "source_rules", Error);
        var sinkIn = Table(root, "kafka_sink", Error);
        var state = Table(root, "state_tracking", Error);

        // [mysql] → name, source
        var name = "";
        var source = new JsonObject();
        foreach (var (key, value) in mysql)
        {
            var k = "mysql." + key;
            switch (key)
            {
                case "name": name = Text(value, k, Error) ?? ""; break;
                case "addr":
                    if (Text(value, k, Error) is { } addr)
                    {
                        var (host, p) = SplitAddr(addr.Trim());
                        if (host.Length == 0) Error(k, $"'{addr}' is not host:port");
                        source["host"] = host;
                        if (p is { } pp)
                        {
                            if (!int.TryParse(pp, out var pn) || pn is < 1 or > 65535) Error(k, $"'{addr}': the port must be 1-65535");
                            else source["port"] = pn;
                        }
                    }
                    break;
                case "port":
                    Integer(value, k, Error);
                    Warn(k, "ignored, as prensio ignored it: the port is the one in addr (3306 when addr has none)");
                    break;
                case "user": source["user"] = Text(value, k, Error); break;
                case "pass": source["password"] = Text(value, k, Error) ?? ""; break;
                case "server_id":
                    if (Integer(value, k, Error) is { } id)
                    {
                        if (id is < 1 or > uint.MaxValue) Error(k, "must be 1-4294967295 (unique among the server's replicas)");
                        else source["server_id"] = id;
                    }
                    break;
                default: Error(k, "is not a [mysql] setting (known: name, addr, port, user, pass, server_id)"); break;
            }
        }
        if (name.Length == 0) Error("mysql.name", "is required: it names the pipeline (and prensio's state topic)");
        if (!source.ContainsKey("host")) Error("mysql.addr", "is required (host:port)");
        // prensio (go-mysql's canal without a dump) read from the oldest binlog file when it had no state.
        source["start"] = "earliest";

        // [source_rules] → filter.regex (prensio parsed them and never applied them)
        var regex = new JsonObject();
        var applied = false;
        foreach (var (key, value) in rules)
        {
            var k = "source_rules." + key;
            if (key is not ("include_schemas" or "exclude_schemas" or "include_tables" or "exclude_tables"))
            {
                Error(k, "is not a [source_rules] setting (known: include_schemas, exclude_schemas, include_tables, exclude_tables)");
                continue;
            }
            if (value is not JsonArray list)
            {
                Error(k, "must be a list of regular expressions");
                continue;
            }
            var patterns = new JsonArray();
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i] is not JsonValue v || !v.TryGetValue<string>(out var pattern))
                {
                    Error($"{k}[{i}]", "must be a string (a regular expression)");
                    continue;
                }
                try
                {
                    _ = new System.Text.RegularExpressions.Regex(pattern);
                }
                catch (ArgumentException e)
                {
                    Error($"{k}[{i}]", $"'{pattern}' is not a valid regular expression: {e.Message}");
                    continue;
                }
                if (pattern.Length == 0)
                    Warn($"{k}[{i}]", "\"\" matches every name (patterns are searched anywhere in the name, as Go's regexp.MatchString does)");
                else if (!pattern.StartsWith('^') && !pattern.EndsWith('$') && key.StartsWith("exclude", StringComparison.Ordinal))
                    Warn($"{k}[{i}]", $"'{pattern}' is searched anywhere in the name (as Go's regexp.MatchString does): it also excludes e.g. '{pattern}x'; write ^{pattern}$ for exactly that name");
                patterns.Add(pattern);
            }
            if (patterns.Count > 0) applied = true;
            regex[key] = patterns;
        }
        if (applied)
            Warn("source_rules", "applied: prensio read these lists but never applied them (it sent every table); tables they leave out are no longer sent");

        // [[transform_rule]] → transform.rules (JavaScript, prensio contract)
        var chain = TransformRules(root, Error, Warn, ruleIndexes);

        // [kafka_sink] → sink
        var sink = new JsonObject
        {
            ["type"] = "kafka",
            ["format"] = "prensio",
            ["topic"] = "{database}.{table}",
            ["headers"] = new JsonArray(), // prensio sent none
            ["partitions"] = -1, // prensio let the broker auto-create topics with its default partition count
        };
        foreach (var (key, value) in sinkIn)
        {
            var k = "kafka_sink." + key;
            switch (key)
            {
                case "name":
                    Text(value, k, Error);
                    Warn(k, "a label only (prensio logged it): not used");
                    break;
                case "addr":
                    if (Text(value, k, Error) is { } addr)
                    {
                        var servers = addr.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                        if (servers.Length == 0) Error(k, "is required: host:port[,host:port…] of the brokers");
                        else sink["bootstrap_servers"] = string.Join(',', servers);
                    }
                    break;
                case "port":
                    Integer(value, k, Error);
                    Warn(k, "ignored, as prensio ignored it: the brokers are those in addr");
                    break;
                case "batch_size_bytes":
                    Integer(value, k, Error);
                    Warn(k, "ignored, as prensio ignored it (it batched up to 10240 bytes): batching is the producer's linger.ms and batch.size (sink.producer in pluginhost.yaml)");
                    break;
                default: Error(k, "is not a [kafka_sink] setting (known: name, addr, port, batch_size_bytes)"); break;
            }
        }
        if (!sink.ContainsKey("bootstrap_servers") && !sinkIn.ContainsKey("addr")) Error("kafka_sink.addr", "is required: host:port[,host:port…] of the brokers");

        // [state_tracking] → checkpoint (ours in Kafka; prensio's topic read at the first start)
        var settings = new JsonObject();
        string? stateTopic = null;
        foreach (var (key, value) in state)
        {
            var k = "state_tracking." + key;
            switch (key)
            {
                case "kafka_addr":
                    if (Text(value, k, Error) is { Length: > 0 } a) settings["bootstrap_servers"] = a.Trim();
                    break;
                case "state_topic":
                    stateTopic = Text(value, k, Error);
                    break;
                default: Error(k, "is not a [state_tracking] setting (known: kafka_addr, state_topic)"); break;
            }
        }
        if (!settings.ContainsKey("bootstrap_servers"))
        {
            settings["bootstrap_servers"] = sink["bootstrap_servers"]?.DeepClone();
            Warn("state_tracking", "no kafka_addr: prensio's state topic is looked for, and the checkpoint kept, at kafka_sink.addr");
        }
        settings["prensio_name"] = name;
        settings["prensio_topic"] = string.IsNullOrWhiteSpace(stateTopic) ? $"prensio-{name}-state" : stateTopic.Trim();

        if (errors.Count > before) return null;
        var filter = new JsonObject();
        if (regex.Count > 0) filter["regex"] = regex;
        var pipeline = new JsonObject
        {
            ["name"] = name,
            ["source"] = source,
            ["sink"] = sink,
            ["checkpoint"] = new JsonObject { ["type"] = "prensio", ["settings"] = settings },
        };
        if (filter.Count > 0) pipeline["filter"] = filter;
        if (chain.Count > 0) pipeline["transform"] = new JsonObject { ["language"] = "javascript", ["rules"] = chain };
        return pipeline;
    }

    /// <summary>
    /// <c>[[transform_rule]]</c> → the JavaScript rules (<c>name</c>, <c>match_schema</c>, <c>match_table</c>, <c>script</c>).
    /// A rule without <c>transform_func</c> is skipped, as prensio skipped it.
    /// </summary>
    private static JsonArray TransformRules(JsonObject root, Action<string, string> error, Action<string, string> warn, List<int> indexes)
    {
        var result = new JsonArray();
        if (root["transform_rule"] is null) return result;
        if (root["transform_rule"] is not JsonArray rules)
        {
            error("transform_rule", "must be an array of tables: [[transform_rule]]");
            return result;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var k = $"transform_rule[{i}]";
            if (rules[i] is not JsonObject rule)
            {
                error(k, "must be a table");
                continue;
            }
            var output = new JsonObject();
            string? script = null;
            foreach (var (key, value) in rule)
            {
                var kk = $"{k}.{key}";
                switch (key)
                {
                    case "name": output["name"] = Text(value, kk, error); break;
                    case "match_schema":
                    case "match_table":
                        var pattern = Text(value, kk, error) ?? "";
                        try
                        {
                            _ = new System.Text.RegularExpressions.Regex(pattern);
                        }
                        catch (ArgumentException e)
                        {
                            error(kk, $"'{pattern}' is not a valid regular expression: {e.Message}");
                        }
                        output[key] = pattern;
                        break;
                    case "transform_func": script = Text(value, kk, error); break;
                    default: error(kk, "is not a [[transform_rule]] setting (known: name, match_schema, match_table, transform_func)"); break;
                }
            }
            if (string.IsNullOrWhiteSpace(script))
            {
                warn(k, "has no transform_func: skipped, as prensio skipped it");
                continue;
            }
            var name = output["name"] is JsonValue nv && nv.TryGetValue<string>(out var n) && n.Length > 0 ? n : $"rule{i + 1}";
            if (output["name"] is null) warn(k, $"has no name: called '{name}'");
            var unique = name;
            for (var j = 2; !names.Add(unique); j++) unique = $"{name}_{j}";
            if (unique != name) warn($"{k}.name", $"'{name}' is used by an earlier rule: this one is called '{unique}'");
            output["name"] = unique;
            output["script"] = script;
            result.Add(output);
            indexes.Add(i);
        }
        return result;
    }

    private static JsonObject Table(JsonObject root, string name, Action<string, string> error)
    {
        switch (root[name])
        {
            case null: return new JsonObject();
            case JsonObject o: return o;
            default:
                error(name, $"must be a table: [{name}]");
                return new JsonObject();
        }
    }

    private static string? Text(JsonNode? node, string key, Action<string, string> error)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        error(key, "must be a string");
        return null;
    }

    private static long? Integer(JsonNode? node, string key, Action<string, string> error)
    {
        if (node is JsonValue v && v.TryGetValue<long>(out var n)) return n;
        error(key, "must be a whole number");
        return null;
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c> or a bare host.</summary>
    private static (string Host, string? Port) SplitAddr(string addr)
    {
        if (addr.StartsWith('['))
        {
            var close = addr.IndexOf(']');
            if (close < 0) return ("", null);
            var host = addr[1..close];
            return addr.Length > close + 1 && addr[close + 1] == ':' ? (host, addr[(close + 2)..]) : (host, null);
        }
        var colon = addr.LastIndexOf(':');
        if (colon < 0 || addr.IndexOf(':') != colon) return (addr, null);
        return (addr[..colon], addr[(colon + 1)..]);
    }
}
