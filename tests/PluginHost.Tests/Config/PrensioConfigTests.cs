using PluginHost.Cli;
using PluginHost.Config;
using PluginHost.Config.Prensio;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Config;

/// <summary>
/// go-mysql-kafka (prensio) TOML pipelines: prensio's own sample files read as written, the mapping onto a pipeline
/// (source, regex filter, rules, Kafka sink, prensio checkpoint), warnings for what is ignored or treated differently,
/// and every error of every file at once, naming file, line and prensio's key.
/// </summary>
public sealed class PrensioConfigTests : IDisposable
{
    private static readonly Dictionary<string, string> NoEnv = new();
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-prensio-config-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Sample(string name) => Path.Combine(RepoPaths.RepoRoot, "samples", "prensio", name);

    private string Write(string name, string toml)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
        return path;
    }

    private const string Minimal = """
        [mysql]
        name = "orders"
        addr = "db.example:3307"
        user = "cdc"
        pass = "secret"
        server_id = 42

        [kafka_sink]
        name = "main"
        addr = "k1:9092, k2:9092"

        [state_tracking]
        kafka_addr = "k1:9092"
        state_topic = ""
        """;

    [Fact]
    public void A_prensio_file_becomes_one_pipeline_with_a_prensio_kafka_sink_and_checkpoint()
    {
        var config = ConfigLoader.Load(Write("orders.toml", Minimal), NoEnv);
        var p = Assert.Single(config.Pipelines);
        Assert.Equal("orders", p.Name);
        Assert.Equal(("db.example", 3307, "cdc", "secret", 42u), (p.Options.Source.Host, p.Options.Source.Port, p.Options.Source.User, p.Options.Source.Password, p.Options.Source.ServerId));
        Assert.Equal(PluginHost.Binlog.Replication.BinlogStart.Earliest, p.Start); // prensio without state read from the oldest binlog
        Assert.Equal("kafka", p.SinkType);
        Assert.Equal("prensio", p.SinkSettings.GetProperty("format").GetString());
        Assert.Equal("k1:9092,k2:9092", p.SinkSettings.GetProperty("bootstrap_servers").GetString());
        Assert.Equal(0, p.SinkSettings.GetProperty("headers").GetArrayLength());
        Assert.Equal("prensio", p.Options.Checkpoint.Type);
        Assert.Equal("k1:9092", p.Options.Checkpoint.Settings["bootstrap_servers"].GetString());
        Assert.Equal("prensio-orders-state", p.Options.Checkpoint.Settings["prensio_topic"].GetString()); // "" means prensio's default
        Assert.Equal("orders", p.Options.Checkpoint.Settings["prensio_name"].GetString());
        Assert.Equal(Path.Combine(_dir, "state"), config.StateDirectory);
        Assert.Contains(config.Warnings, w => w.Contains("kafka_sink.name") && w.Contains("label"));
    }

    [Fact]
    public void A_prensio_file_gets_the_rest_server_a_yaml_file_gets_and_listen_moves_or_turns_it_off()
    {
        var path = Write("orders.toml", Minimal);
        var server = ConfigLoader.Load(path, NoEnv).Options.Server;
        Assert.Equal((true, "127.0.0.1:8080", null), (server.Enabled, server.Listen, server.AdminToken)); // YAML's defaults: token generated into state/
        server = ConfigLoader.Load(path, CliOptions.ListenEnvironment("0.0.0.0:9191")).Options.Server;
        Assert.Equal((true, "0.0.0.0:9191"), (server.Enabled, server.Listen));
        Assert.False(ConfigLoader.Load(path, CliOptions.ListenEnvironment("off")).Options.Server.Enabled);
        var env = new Dictionary<string, string> { ["PLUGINHOST__SERVER__LISTEN"] = "127.0.0.1:9292", ["PLUGINHOST__SERVER__ADMIN_TOKEN"] = "from-the-environment-1234" };
        server = ConfigLoader.Load(path, env).Options.Server;
        Assert.Equal(("127.0.0.1:9292", "from-the-environment-1234"), (server.Listen, server.AdminToken));
    }

    [Fact]
    public void Prensio_sample_configs_are_read_as_written_with_a_warning_for_each_ignored_key()
    {
        var config = ConfigLoader.Load(Sample("simple_test.toml"), NoEnv);
        var p = Assert.Single(config.Pipelines);
        Assert.Equal("simple-test-d", p.Name);
        Assert.Equal("SHOULD-OVERRIDE", p.Options.Source.Host); // prensio's tests override it; so do ours (environment)
        Assert.Null(p.TransformPath); // the empty [[transform_rule]]: skipped, as prensio skipped it
        string[] expected = ["mysql.port", "kafka_sink.port", "kafka_sink.batch_size_bytes", "transform_rule[0]", "state_tracking"];
        foreach (var key in expected)
            Assert.Contains(config.Warnings, w => w.StartsWith($"warning: {Sample("simple_test.toml")}:", StringComparison.Ordinal) && w.Contains($": {key}: "));
        Assert.Contains(config.Warnings, w => w.Contains("simple_test.toml:4: mysql.port: ignored"));
    }

    [Fact]
    public void The_sample_with_rules_maps_each_transform_rule_to_a_javascript_rule_and_applies_source_rules()
    {
        var errors = new List<ConfigError>();
        var warnings = new List<string>();
        var file = Sample("prensio_dev_default.toml");
        var doc = TomlDocument.Parse(File.ReadAllText(file), file, errors)!;
        var rules = new List<int>();
        var pipeline = PrensioTranslator.Translate(doc, file, errors, warnings, rules)!;
        Assert.Empty(errors);
        Assert.Equal("tenant_db_1234", pipeline["name"]!.GetValue<string>());
        var chain = pipeline["transform"]!["rules"]!.AsArray();
        Assert.Equal(["generic", "another-rule"], chain.Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal("test_.*", chain[0]!["match_schema"]!.GetValue<string>());
        Assert.Equal("entity_1", chain[1]!["match_table"]!.GetValue<string>());
        Assert.Contains("tObfString(e.text_col)", chain[0]!["script"]!.GetValue<string>());
        Assert.Equal("function transform(cdc_event) {\n    return ACTION_DROP\n}\n", chain[1]!["script"]!.GetValue<string>());
        Assert.Equal([0, 1], rules);
        var regex = pipeline["filter"]!["regex"]!;
        Assert.Equal(["test_.*", ""], regex["include_schemas"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(["table_1"], regex["exclude_tables"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Contains(warnings, w => w.Contains("source_rules: applied"));
        Assert.Contains(warnings, w => w.Contains("source_rules.include_schemas[1]") && w.Contains("matches every name"));
        Assert.Contains(warnings, w => w.Contains("source_rules.exclude_tables[0]") && w.Contains("^table_1$"));
        Assert.Equal("127.0.0.1", pipeline["source"]!["host"]!.GetValue<string>());
        Assert.Equal(6033, pipeline["source"]!["port"]!.GetValue<int>());
        Assert.Equal("127.0.0.1:39092", pipeline["checkpoint"]!["settings"]!["bootstrap_servers"]!.GetValue<string>());
    }

    [Fact]
    public void The_readme_transform_becomes_one_rule_with_its_source_as_written()
    {
        var errors = new List<ConfigError>();
        var file = Path.Combine(RepoPaths.RepoRoot, "samples", "prensio-readme", "readme_transform.toml");
        var doc = TomlDocument.Parse(File.ReadAllText(file), file, errors)!;
        var pipeline = PrensioTranslator.Translate(doc, file, errors, [], [])!;
        Assert.Empty(errors);
        var rule = Assert.Single(pipeline["transform"]!["rules"]!.AsArray())!;
        Assert.Equal("readme", rule["name"]!.GetValue<string>());
        Assert.StartsWith("function transform(cdc_event) {\n\tcdc_event.ext = 1\n\tcdc_event.after.forEach((e) => {", rule["script"]!.GetValue<string>());
        Assert.Equal("javascript", pipeline["transform"]!["language"]!.GetValue<string>());
    }

    [Fact]
    public void Every_problem_of_every_file_of_a_directory_is_reported_at_once_naming_file_line_and_key()
    {
        var a = Write("a.toml", """
            [mysql]
            name = "a"
            addr = "db:99999"
            user = "u"
            server_id = "one"
            colour = "blue"

            [kafka_sink]
            addr = "k:9092"
            """);
        var b = Write("sub/b.toml", """
            [mysql]
            name = "b"
            addr = "db:3306"
            user = "u"
            server_id = 7

            [source_rules]
            include_tables = ["(unclosed"]

            [kafka_sink]
            addr = "k:9092"

            [extra]
            x = 1
            """);
        Write("notes.txt", "not a pipeline");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_dir, NoEnv));
        var text = string.Join("\n", e.Errors);
        Assert.Contains($"{a}:3: mysql.addr: 'db:99999': the port must be 1-65535", text);
        Assert.Contains($"{a}:5: mysql.server_id: must be a whole number", text);
        Assert.Contains($"{a}:6: mysql.colour: is not a [mysql] setting", text);
        Assert.Contains($"{b}:13: extra: is not a go-mysql-kafka (prensio) setting", text);
        Assert.Contains($"{b}:8: source_rules.include_tables[0]: '(unclosed' is not a valid regular expression", text);
        Assert.Equal(5, e.Errors.Count);
        var second = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Write("c/c.toml", """
            [mysql]
            name = "c"
            addr = "db:3306"
            user = "u"
            server_id = 7

            [source_rules]
            include_tables = ["(unclosed"]

            [kafka_sink]
            addr = "k:9092"
            """), NoEnv));
        Assert.Contains(second.Errors, x => x.File.EndsWith("c.toml:8", StringComparison.Ordinal) && x.Key == "source_rules.include_tables[0]");
    }

    [Fact]
    public void Toml_syntax_errors_and_duplicate_pipeline_names_name_the_file_and_line()
    {
        var bad = Write("bad.toml", "[mysql]\nname = \"x\"\nname = \"y\"\naddr = \n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(bad, NoEnv));
        Assert.All(e.Errors, x => Assert.StartsWith(bad + ":", x.File));
        Write("d1/one.toml", Minimal);
        Write("d1/two.toml", Minimal.Replace("server_id = 42", "server_id = 43"));
        var dup = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir, "d1"), NoEnv));
        Assert.Contains(dup.Errors, x => x.Key == "mysql.name" && x.File == Path.Combine(_dir, "d1", "two.toml") + ":2" && x.Message.Contains("one.toml"));
    }

    [Fact]
    public void Errors_found_after_translation_are_named_by_prensio_key_and_line()
    {
        var file = Write("nouser.toml", Minimal.Replace("user = \"cdc\"", "user = \"\""));
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(file, NoEnv));
        Assert.Equal($"{file}:4: mysql.user: is required", Assert.Single(e.Errors).ToString());
        var zero = Write("zero.toml", Minimal.Replace("server_id = 42", "server_id = 0"));
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(zero, NoEnv));
        Assert.Equal($"{zero}:6: mysql.server_id: must be 1-4294967295 (unique among the server's replicas)", Assert.Single(e.Errors).ToString());
    }

    [Fact]
    public void Environment_overrides_reach_a_migrated_pipeline_by_name()
    {
        var env = new Dictionary<string, string>
        {
            ["PLUGINHOST__PIPELINES__simple-test-d__SOURCE__HOST"] = "127.0.0.1",
            ["PLUGINHOST__PIPELINES__simple-test-d__SINK__BOOTSTRAP_SERVERS"] = "127.0.0.1:9092",
        };
        var p = Assert.Single(ConfigLoader.Load(Sample("simple_test.toml"), env).Pipelines);
        Assert.Equal("127.0.0.1", p.Options.Source.Host);
        Assert.Equal("127.0.0.1:9092", p.SinkSettings.GetProperty("bootstrap_servers").GetString());
    }

    [Fact]
    public async Task Check_with_only_a_config_reads_a_toml_file_and_lists_its_problems()
    {
        var good = Write("good.toml", Minimal);
        var output = new StringWriter();
        var errors = new StringWriter();
        Assert.Equal(0, await CheckCommand.RunAsync(["--config", good], output, errors));
        Assert.Contains("valid; pipelines: orders", output.ToString());
        Assert.Contains("kafka_sink.name", errors.ToString());

        var bad = Write("bad2.toml", Minimal.Replace("[state_tracking]", "[state_tracking]\nstate_topic_name = \"x\""));
        errors = new StringWriter();
        Assert.Equal(1, await CheckCommand.RunAsync(["--config", bad], new StringWriter(), errors));
        Assert.Contains($"{bad}:13: state_tracking.state_topic_name: is not a [state_tracking] setting", errors.ToString());
    }

    [Fact]
    public void Regex_filter_applies_source_rules_as_go_matchstring_does()
    {
        var yaml = """
            state_dir: state
            pipelines:
              - name: p
                source: { host: h, user: u, server_id: 1 }
                filter: { regex: { include_schemas: ["^test_"], exclude_schemas: ["^test_123$"], include_tables: ["table_"], exclude_tables: ["^table_1$"] } }
                sink: { type: file, path: x.jsonl }
            """;
        var filter = ConfigLoader.Parse(yaml, "/x/pluginhost.yaml", NoEnv).Pipelines[0].Filter;
        Assert.True(filter.IncludesTable("test_a", "table_2"));
        Assert.True(filter.IncludesTable("test_a", "my_table_10")); // searched anywhere
        Assert.False(filter.IncludesTable("test_a", "table_1"));
        Assert.False(filter.IncludesTable("test_123", "table_2"));
        Assert.False(filter.IncludesTable("prod", "table_2"));
        Assert.False(filter.IncludesTable("test_a", "other"));
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml.Replace("\"table_\"", "\"[\""), "/x/pluginhost.yaml", NoEnv));
        Assert.Contains(e.Errors, x => x.Key == "filter.regex.include_tables[0]");
    }
}
