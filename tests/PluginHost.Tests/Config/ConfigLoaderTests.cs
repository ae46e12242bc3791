using System.Text.Json;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Cli;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Config;

/// <summary>
/// <c>pluginhost.yaml</c>: a full valid file binds to the right options; every kind of problem is reported together
/// (file, pipeline, key); environment overrides and <c>${…}</c> substitution; YAML syntax errors name the line.
/// </summary>
public sealed class ConfigLoaderTests
{
    private const string File = "/etc/pluginhost/pluginhost.yaml";
    private static readonly ISet<string> SinkTypes = new HashSet<string> { "file", "webhook" };
    private static readonly Dictionary<string, string> NoEnv = new();

    private static HostConfig Parse(string yaml, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(yaml, File, env ?? NoEnv, SinkTypes);

    private static IReadOnlyList<ConfigError> Errors(string yaml, Dictionary<string, string>? env = null)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(yaml, env));
        Assert.All(e.Errors, x => Assert.Equal(File, x.File));
        return e.Errors;
    }

    private static void AssertError(IReadOnlyList<ConfigError> errors, string? pipeline, string key, string? messagePart = null)
    {
        var hit = errors.FirstOrDefault(e => e.Pipeline == pipeline && e.Key == key && (messagePart is null || e.Message.Contains(messagePart, StringComparison.OrdinalIgnoreCase)));
        Assert.True(hit != null, $"expected an error for pipeline '{pipeline ?? "(none)"}' key '{key}'{(messagePart is null ? "" : $" mentioning '{messagePart}'")}; got:\n  " + string.Join("\n  ", errors));
    }

    [Fact]
    public void A_full_valid_file_binds_every_setting()
    {
        var yaml = """
            # every section, every kind of value
            state_dir: /var/lib/pluginhost
            plugins_dir: my-plugins
            transforms_dir: scripts
            server: { listen: "0.0.0.0:9090", admin_token: "${ADMIN_TOKEN:-changeme}", enabled: true }
            log:
              level: debug
              format: json
            memory: { gen0_budget: 16777216 }
            pipelines:
              - name: orders
                source:
                  host: db.example
                  port: 3307
                  user: cdc
                  password: ${DB_PASSWORD}
                  server_id: 101
                  start: { gtid: "0-1-42" }
                  ssl: verify_full
                  ssl_ca: ca.pem
                  heartbeat: 2s
                  connect_timeout: 1500ms
                filter:
                  include: ["shop.*", "crm.users"]
                  exclude: ["shop.tmp_*"]
                  events: [insert, update]
                transform: orders.csx
                on_error: dead_letter
                dead_letter: dl/orders.jsonl
                batch_size: 100
                queue_chunks: 8
                queue_bytes: 1048576
                transform_timeout: 250ms
                sink:
                  type: file
                  path: out/orders.jsonl
                  fsync: false
              - name: audit.v2
                enabled: false
                source: { host: db.example, user: cdc, server_id: 102, start: { file: mysql-bin.000003, pos: 120 } }
                sink: { type: file, path: "-" }
              - name: everything
                source: { host: other.example, user: cdc, password: "", server_id: 101, start: earliest }
                on_error: skip
                sink: { type: webhook, url: "http://x" }
            """;
        var config = Parse(yaml, new() { ["DB_PASSWORD"] = "s3cret" });

        var o = config.Options;
        Assert.Equal("/var/lib/pluginhost", config.StateDirectory);
        Assert.Equal("/etc/pluginhost/my-plugins", config.PluginsDirectory);
        Assert.Equal("/etc/pluginhost/scripts", config.TransformsDirectory);
        Assert.Equal("0.0.0.0:9090", o.Server.Listen);
        Assert.Equal("changeme", o.Server.AdminToken);
        Assert.Equal(("debug", "json"), (o.Log.Level, o.Log.Format));
        Assert.Equal(3, config.Pipelines.Count);

        var p = config.Pipelines[0];
        Assert.Equal("orders", p.Name);
        Assert.Equal(("db.example", 3307, "cdc", "s3cret"), (p.Connection.Host, p.Connection.Port, p.Connection.User, p.Connection.Password));
        Assert.Equal(SslMode.VerifyFull, p.Connection.SslMode);
        Assert.Equal("ca.pem", p.Connection.SslCaFile);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), p.Connection.ConnectTimeout);
        Assert.Equal(101u, p.Options.Source.ServerId);
        Assert.Equal(TimeSpan.FromSeconds(2), p.Options.Source.Heartbeat);
        Assert.Equal(BinlogStart.AtGtid("0-1-42"), p.Start);
        Assert.True(p.Filter.IncludesTable("shop", "orders"));
        Assert.True(p.Filter.IncludesTable("crm", "users"));
        Assert.False(p.Filter.IncludesTable("crm", "accounts"));
        Assert.False(p.Filter.IncludesTable("shop", "tmp_1"));
        Assert.True(p.Filter.IncludesOperation(ChangeOperation.Update));
        Assert.False(p.Filter.IncludesOperation(ChangeOperation.Delete));
        Assert.Equal("orders.csx", p.TransformPath);
        Assert.Equal(OnErrorPolicy.DeadLetter, p.OnError);
        Assert.Equal("dl/orders.jsonl", p.DeadLetterPath);
        Assert.Equal((100, 8, 1048576L), (p.Options.BatchSize, p.Options.QueueChunks, p.Options.QueueBytes));
        Assert.Equal(16L << 20, config.Options.Memory.Gen0Budget);
        Assert.Equal(TimeSpan.FromMilliseconds(250), p.Options.TransformTimeout);
        Assert.Equal("file", p.SinkType);
        Assert.Equal("out/orders.jsonl", p.SinkSettings.GetProperty("path").GetString());
        Assert.Equal("false", p.SinkSettings.GetProperty("fsync").GetString());
        Assert.True(p.Options.Enabled);

        var audit = config.Pipelines[1];
        Assert.Equal("audit.v2", audit.Name);
        Assert.False(audit.Options.Enabled);
        Assert.Equal(3306, audit.Connection.Port);
        Assert.Equal(BinlogStart.At("mysql-bin.000003", 120), audit.Start);
        Assert.Equal(OnErrorPolicy.Stop, audit.OnError);
        Assert.True(audit.Filter.IncludesTable("any", "thing"));
        Assert.True(audit.Filter.IncludesOperation(ChangeOperation.Delete));

        // server_id 101 again, but on another server: allowed.
        var all = config.Pipelines[2];
        Assert.Equal(BinlogStart.Earliest, all.Start);
        Assert.Equal("webhook", all.SinkType);
        Assert.Equal(OnErrorPolicy.Skip, all.OnError);
        Assert.Equal("", all.Connection.Password);
    }

    [Fact]
    public void Defaults_apply_to_a_minimal_file_and_empty_values_are_not_null()
    {
        var config = Parse("""
            pipelines:
              - name: p
                source:
                  host: h
                  user: u
                  password:
                  server_id: 7
                  start:
                sink: { type: file, path: out.jsonl }
            """);
        var p = config.Pipelines[0];
        Assert.Equal("", p.Connection.Password);
        Assert.Equal(BinlogStart.Latest, p.Start);
        Assert.Equal(SslMode.Preferred, p.Connection.SslMode);
        Assert.Equal("127.0.0.1:8080", config.Options.Server.Listen);
        Assert.Equal("/etc/pluginhost/state", config.StateDirectory);
        Assert.Equal(("info", "text"), (config.Options.Log.Level, config.Options.Log.Format));
        Assert.Null(p.TransformPath);
        Assert.Equal((2048, 64, 2L << 20), (p.Options.BatchSize, p.Options.QueueChunks, p.Options.QueueBytes));
        Assert.Equal(8L << 20, config.Options.Memory.Gen0Budget);
    }

    [Fact]
    public void Every_kind_of_problem_is_reported_together_with_file_pipeline_and_key()
    {
        var yaml = """
            bogus_root_key: 1
            server: { listen: "not an endpoint" }
            log: { level: loud }
            memory: { gen0_budget: 1000 }
            pipelines:
              - name: alpha
                source: { host: "", user: "", port: 70000, server_id: 0, hots: typo, start: sometime }
                filter: { inclde: ["x.*"] }
                sink: { type: file, path: a.jsonl }
              - name: beta
                source: { host: db, user: u, port: abc, server_id: 5, password: "${MISSING_SECRET}", start: { gtid: "not-a-gtid" } }
                filter: { include: ["nodot", "ok.*"], exclude: [".bad"], events: [insert, upsert] }
                on_error: explode
                sink: { type: kafka }
              - name: beta
                source: { host: db, user: u, server_id: 5, start: { file: mysql-bin.000001, pos: abc } }
                on_error: dead_letter
                batch_size: 0
                queue_bytes: 10
                checkpoint: { type: file, history_interval: 48h }
                sink: { path: x }
              - name: "bad name!"
                source: { host: db, user: u, server_id: 9, start: { file: mysql-bin.000001, pos: 2 } }
              - source: { host: db2, user: u, server_id: 9 }
                transform: script.py
                sink: { type: file, path: b.jsonl }
            """;
        var errors = Errors(yaml);

        // root level
        AssertError(errors, null, "bogus_root_key", "unknown setting");
        AssertError(errors, null, "server.listen");
        AssertError(errors, null, "log.level");
        AssertError(errors, null, "memory.gen0_budget", "262144");
        // alpha: unknown keys in source and filter, missing host/user/server_id, bad port, bad start
        AssertError(errors, "alpha", "source.hots", "unknown setting");
        AssertError(errors, "alpha", "filter.inclde", "unknown setting");
        AssertError(errors, "alpha", "source.host", "required");
        AssertError(errors, "alpha", "source.user", "required");
        AssertError(errors, "alpha", "source.server_id", "required");
        AssertError(errors, "alpha", "source.port", "1-65535");
        AssertError(errors, "alpha", "source.start", "sometime");
        // beta: bad port text, missing env var, bad gtid, bad patterns and event, bad on_error, unknown sink type
        AssertError(errors, "beta", "source.port", "abc");
        AssertError(errors, "beta", "source.password", "MISSING_SECRET");
        AssertError(errors, "beta", "source.start.gtid", "not-a-gtid");
        AssertError(errors, "beta", "filter.include[0]", "nodot");
        AssertError(errors, "beta", "filter.exclude[0]", ".bad");
        AssertError(errors, "beta", "filter.events[1]", "upsert");
        AssertError(errors, "beta", "on_error");
        AssertError(errors, "beta", "sink.type", "unknown sink type 'kafka'");
        // the second beta: duplicate name, duplicate server_id on the same server, bad pos, dead_letter missing, batch size, sink type missing
        AssertError(errors, "beta", "name", "another pipeline");
        AssertError(errors, "beta", "source.server_id", "also used by pipeline 'beta'");
        AssertError(errors, "beta", "source.start.pos");
        AssertError(errors, "beta", "dead_letter", "required");
        AssertError(errors, "beta", "batch_size");
        AssertError(errors, "beta", "queue_bytes", "65536");
        AssertError(errors, "beta", "checkpoint.history_interval", "0s-24h");
        AssertError(errors, "beta", "sink.type", "required");
        // bad name, pos < 4, no sink
        AssertError(errors, "bad name!", "name", "letters");
        AssertError(errors, "bad name!", "source.start", "pos");
        AssertError(errors, "bad name!", "sink", "required");
        // no name at all: named by its index
        AssertError(errors, "#4", "name", "required");
        AssertError(errors, "#4", "transform", ".csx");
        Assert.True(errors.Count >= 31, string.Join("\n", errors));

        // The exception message lists them all, one per line, with file and pipeline.
        var message = Assert.Throws<ConfigException>(() => Parse(yaml)).Message;
        Assert.Contains($"{File}: pipeline 'beta': source.password: environment variable MISSING_SECRET is not set", message);
        Assert.Contains($"{File}: bogus_root_key: unknown setting", message);
    }

    [Fact]
    public void Bad_sink_settings_are_reported_by_ValidateSinks_as_sink_keys()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-config-").FullName;
        try
        {
            var config = ConfigLoader.Parse($$"""
                pipelines:
                  - name: nopath
                    source: { host: db, user: u, server_id: 1 }
                    sink: { type: file }
                  - name: typo
                    source: { host: db, user: u, server_id: 2 }
                    sink: { type: file, path: out.jsonl, fsnyc: true }
                  - name: badbool
                    source: { host: db, user: u, server_id: 3 }
                    sink: { type: file, path: out2.jsonl, fsync: maybe }
                  - name: fine
                    source: { host: db, user: u, server_id: 4 }
                    sink: { type: file, path: out3.jsonl }
                """, Path.Combine(dir, "pluginhost.yaml"), NoEnv, SinkTypes);
            var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
            var e = Assert.Throws<ConfigException>(() => RunCommand.ValidateSinks(config, sinks));
            AssertError(e.Errors, "nopath", "sink.path", "required");
            AssertError(e.Errors, "typo", "sink.fsnyc", "unknown setting");
            AssertError(e.Errors, "badbool", "sink.fsync");
            Assert.DoesNotContain(e.Errors, x => x.Pipeline == "fine");
            Assert.Equal(3, e.Errors.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Environment_overrides_set_keys_by_section_by_pipeline_index_and_by_pipeline_name()
    {
        var yaml = """
            server: { listen: "127.0.0.1:8080" }
            pipelines:
              - name: first
                source: { host: db, user: u, password: from-file, server_id: 1 }
                sink: { type: file, path: a.jsonl }
              - name: mypipe
                source: { host: db, user: u, server_id: 2, port: 3306 }
                sink: { type: file, path: b.jsonl }
              - name: MixedCase
                source: { host: db, user: u, server_id: 3 }
                sink: { type: file, path: c.jsonl }
            """;
        var env = new Dictionary<string, string>
        {
            ["PLUGINHOST__SERVER__LISTEN"] = "0.0.0.0:9999",
            ["PLUGINHOST__PIPELINES__0__SOURCE__PASSWORD"] = "from-env",
            ["PLUGINHOST__PIPELINES__mypipe__SOURCE__PORT"] = "3310",
            ["PLUGINHOST__PIPELINES__MixedCase__SOURCE__SERVER_ID"] = "33",
            ["PLUGINHOST__LOG__LEVEL"] = "warn", // a section the file does not have
            ["UNRELATED"] = "x",
        };
        var config = Parse(yaml, env);
        Assert.Equal("0.0.0.0:9999", config.Options.Server.Listen);
        Assert.Equal("from-env", config.Pipelines[0].Connection.Password);
        Assert.Equal(3310, config.Pipelines[1].Connection.Port);
        Assert.Equal(33u, config.Pipelines[2].Options.Source.ServerId);
        Assert.Equal("warn", config.Options.Log.Level);

        // An override is validated like the file: a bad value is an error naming the pipeline and key.
        var errors = Errors(yaml, new() { ["PLUGINHOST__PIPELINES__mypipe__SOURCE__PORT"] = "0" });
        AssertError(errors, "mypipe", "source.port");
    }

    [Fact]
    public void Environment_references_are_substituted_with_defaults()
    {
        var yaml = """
            server: { admin_token: "${TOKEN:-t0k3n}" }
            pipelines:
              - name: p
                source:
                  host: ${DB_HOST:-localhost}
                  user: ${DB_USER}
                  password: ${DB_PASSWORD}
                  server_id: ${SERVER_ID:-77}
                sink: { type: file, path: "out/${SINK_NAME:-events}-${DB_USER}.jsonl" }
            """;
        var config = Parse(yaml, new() { ["DB_PASSWORD"] = "pa$$word", ["DB_USER"] = "cdc", ["DB_HOST"] = "" });
        var p = config.Pipelines[0];
        Assert.Equal("t0k3n", config.Options.Server.AdminToken);
        Assert.Equal("localhost", p.Connection.Host); // set but empty: the default, as in the shell
        Assert.Equal("cdc", p.Connection.User);
        Assert.Equal("pa$$word", p.Connection.Password);
        Assert.Equal(77u, p.Options.Source.ServerId);
        Assert.Equal("out/events-cdc.jsonl", p.SinkSettings.GetProperty("path").GetString());

        var errors = Errors(yaml, new() { ["DB_USER"] = "cdc" });
        AssertError(errors, "p", "source.password", "DB_PASSWORD");
        Assert.Single(errors);
    }

    [Fact]
    public void A_YAML_syntax_error_names_the_line()
    {
        var yaml = "pipelines:\n  - name: a\n    source: { host: x, user: u\n    sink: [\n";
        var errors = Errors(yaml);
        var e = Assert.Single(errors);
        Assert.StartsWith("YAML syntax error", e.Message);
        Assert.Matches(@"^line \d+, column \d+$", e.Key);
        Assert.Contains(e.ToString(), Assert.Throws<ConfigException>(() => Parse(yaml)).Message);

        var bad = Errors("state_dir: a\nlog:\n  level: info\n   format: text\n");
        Assert.StartsWith("line 4,", Assert.Single(bad).Key);

        var dup = Errors("log: { level: info }\nlog: { level: warn }\n");
        AssertError(dup, null, "log", "duplicate key (line 1, column 1 and line 2, column 1)");
    }

    [Fact]
    public void The_file_must_be_a_mapping_and_must_exist()
    {
        AssertError(Errors("- a\n- b\n"), null, "(root)", "mapping");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/pluginhost.yaml", NoEnv));
        Assert.Equal("not found", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void A_javascript_transforms_queue_defaults_to_512_KiB_unless_queue_bytes_is_given()
    {
        static string Pipeline(string name, string extra) =>
            $"  - name: {name}\n    source: {{ host: {name}, user: u, server_id: 7 }}\n    sink: {{ type: file, path: {name}.jsonl }}\n{extra}";
        var config = Parse("pipelines:\n" + Pipeline("js", "    transform: mask.js\n") +
                           Pipeline("rules", "    transform: { rules: [ { name: r, script: 'function transform(e) {}' } ] }\n") +
                           Pipeline("csx", "    transform: mask.csx\n") + Pipeline("none", "") +
                           Pipeline("given", "    transform: mask.JS\n    queue_bytes: 2097152\n"));
        Assert.Equal([512L << 10, 512L << 10, 2L << 20, 2L << 20, 2L << 20], config.Pipelines.Select(p => p.Options.QueueBytes));
        // The environment's value counts as given.
        var env = new Dictionary<string, string> { ["PLUGINHOST__PIPELINES__js__QUEUE_BYTES"] = "1048576" };
        Assert.Equal(1L << 20, Parse("pipelines:\n" + Pipeline("js", "    transform: mask.js\n"), env).Pipelines[0].Options.QueueBytes);
        // A pipeline added through the API gets the same default.
        var api = ConfigLoader.ParsePipeline("""{"name":"api","source":{"host":"db","user":"u","server_id":4},"sink":{"type":"file","path":"x.jsonl"},"transform":"a.js"}""",
            "REST", Parse("pipelines: []"), SinkTypes);
        Assert.Equal(512L << 10, api.Options.QueueBytes);
    }

    [Fact]
    public void A_single_pipeline_parses_with_the_same_rules()
    {
        var current = Parse("pipelines: []");
        var def = ConfigLoader.ParsePipeline("""{"name":"api","source":{"host":"db","user":"u","server_id":4},"sink":{"type":"file","path":"x.jsonl"}}""", "REST", current, SinkTypes);
        Assert.Equal("api", def.Name);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.ParsePipeline("name: api\nsource: { host: db, user: u, server_id: 4, bogus: 1 }\n", "REST", current, SinkTypes));
        AssertError(e.Errors.Select(x => x with { File = File }).ToList(), "api", "source.bogus");
        AssertError(e.Errors.Select(x => x with { File = File }).ToList(), "api", "sink");
    }

    [Fact]
    public void Sink_settings_bind_with_snake_case_durations_and_strict_keys()
    {
        var settings = JsonSerializer.SerializeToElement(new { type = "x", max_retries = "5", timeout = "250ms", urls = new[] { "a", "b" }, nested = new { flag = "true" }, label = (string?)null });
        var o = new SinkContext("p", settings, NullPluginLogger.Instance, "/").Bind<SampleSinkOptions>();
        Assert.Equal(5, o.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.Timeout);
        Assert.Equal(["a", "b"], o.Urls);
        Assert.True(o.Nested.Flag);
        Assert.Null(o.Label);

        var bad = JsonSerializer.SerializeToElement(new { type = "x", max_retries = "many", timeout = "soon", nope = 1 });
        var errors = new List<SinkConfigurationException>();
        SettingsBinder.Bind<SampleSinkOptions>(bad, errors, "", ignoreType: true);
        Assert.Equal(["max_retries", "nope", "timeout"], errors.Select(e => e.Key).Order());
        Assert.Throws<SinkConfigurationException>(() => new SinkContext("p", bad, NullPluginLogger.Instance, "/").Bind<SampleSinkOptions>());
    }

    public sealed class SampleSinkOptions
    {
        public int MaxRetries { get; set; }
        public TimeSpan Timeout { get; set; }
        public List<string> Urls { get; set; } = [];
        public NestedOptions Nested { get; set; } = new();
        public string? Label { get; set; } = "default";
    }

    public sealed class NestedOptions
    {
        public bool Flag { get; set; }
    }

    [Fact]
    public void A_bare_transform_name_is_found_in_transforms_dir_then_beside_the_config_and_paths_stay_relative_to_the_config()
    {
        var root = TestTemp.CreateSubdirectory("pluginhost-transforms-dir-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "scripts"));
        System.IO.File.WriteAllText(Path.Combine(root, "scripts", "a.csx"), "// in transforms_dir");
        System.IO.File.WriteAllText(Path.Combine(root, "a.csx"), "// beside the config");
        System.IO.File.WriteAllText(Path.Combine(root, "b.csx"), "// beside the config only");
        var config = ConfigLoader.Parse("""
            transforms_dir: scripts
            pipelines:
              - name: p
                source: { host: 127.0.0.1, user: u, server_id: 5 }
                transform: a.csx
                sink: { type: file, path: out.jsonl }
            """, Path.Combine(root, "pluginhost.yaml"), NoEnv, SinkTypes);
        Assert.Equal(Path.Combine(root, "scripts", "a.csx"), config.ResolveTransform("a.csx"));
        Assert.Equal(Path.Combine(root, "b.csx"), config.ResolveTransform("b.csx"));
        Assert.Equal(Path.Combine(root, "scripts", "missing.csx"), config.ResolveTransform("missing.csx")); // errors name transforms_dir
        Assert.Equal(Path.Combine(root, "a.csx"), config.ResolveTransform("./a.csx"));
        Assert.Equal(Path.Combine(root, "other", "c.csx"), config.ResolveTransform("other/c.csx"));
    }
}
