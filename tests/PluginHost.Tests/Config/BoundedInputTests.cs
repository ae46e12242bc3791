using System.Text.Json;
using PluginHost.Cli;
using PluginHost.Config;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Config;

/// <summary>
/// Documents from outside are bounded before any tree is built: nesting, value count (YAML aliases expanded), size,
/// duplicate keys; malformed YAML is described in plain words with its line and column.
/// </summary>
public sealed class BoundedInputTests
{
    private const string File = "/etc/pluginhost/pluginhost.yaml";

    private static ConfigException Rejected(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, File, new Dictionary<string, string>()));

    [Theory]
    [InlineData(30_000)]
    [InlineData(2_000)]
    [InlineData(65)]
    public void A_configuration_nested_too_deep_is_an_error_naming_the_file_and_line(int depth)
    {
        var yaml = "state_dir: s\nx: " + new string('[', depth) + new string(']', depth) + "\n";
        var e = Assert.Single(Rejected(yaml).Errors);
        Assert.Equal(File, e.File);
        Assert.Equal("line 2, column 67", e.Key); // the 64th '[' below the root mapping
        Assert.Equal("nested deeper than 64 levels", e.Message);
    }

    [Fact]
    public void Block_style_nesting_is_bounded_too_and_64_levels_are_read()
    {
        var deep = string.Concat(Enumerable.Range(0, 70).Select(i => new string(' ', i * 2) + "k:\n"));
        Assert.Equal("nested deeper than 64 levels", Assert.Single(Rejected(deep).Errors).Message);

        var errors = new List<ConfigError>();
        var ok = YamlToJson.Parse("x: " + new string('[', 63) + "1" + new string(']', 63), "f", errors);
        Assert.Empty(errors);
        Assert.NotNull(ok);
    }

    [Fact]
    public void Aliases_that_expand_beyond_the_value_limit_are_an_error_not_a_memory_bomb()
    {
        // "Billion laughs": each level doubles ten times; expanded it would be 10^9 values.
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
                   string.Concat(Enumerable.Range(1, 8).Select(i => $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i - 1), 10))}]\n"));
        var e = Assert.Single(Rejected(yaml).Errors);
        Assert.Equal("more than 100,000 values (YAML aliases counted as expanded)", e.Message);
        Assert.StartsWith("line 5,", e.Key); // e: 111,111 values

        var errors = new List<ConfigError>();
        var small = YamlToJson.Parse("a: &a { k: v }\nb: *a\n", "f", errors)!;
        Assert.Empty(errors);
        Assert.Equal("""{"a":{"k":"v"},"b":{"k":"v"}}""", small.ToJsonString());
    }

    [Fact]
    public void A_duplicate_key_is_named_with_both_places()
    {
        var errors = Rejected("pipelines:\n  - name: a\n    source: { host: x, host: y }\n").Errors;
        Assert.Contains(errors, e => e.Key == "pipelines[0].source.host" || (e.Pipeline == "a" && e.Key == "source.host"));
        Assert.Contains(errors, e => e.Message == "duplicate key (line 3, column 15 and line 3, column 24)");
    }

    [Fact]
    public void Malformed_YAML_is_described_in_plain_words_with_line_and_column()
    {
        // The input of the issue: an unclosed flow mapping made YamlDotNet throw "Operation is not valid due to the current state of the object".
        var e = Assert.Single(Rejected("pipelines:\n  - name: a\n    source: { host: x, user: u\n    sink: [\n").Errors);
        Assert.Equal("line 3, column 28", e.Key);
        Assert.Equal("YAML syntax error: '{' at line 3, column 13 is not closed", e.Message);
        Assert.DoesNotContain("Operation is not valid", Rejected("pipelines:\n  - name: a\n    source: { host: x, user: u\n    sink: [\n").Message);

        var quoted = Assert.Single(Rejected("log: \"info\n").Errors);
        Assert.Equal("line 1, column 6", quoted.Key);
        Assert.Equal("YAML syntax error: While scanning a quoted scalar, found unexpected end of stream.", quoted.Message);
        Assert.DoesNotContain("Idx:", quoted.Message);

        var flow = Assert.Single(Rejected("log: { level: info\n").Errors);
        Assert.Equal("YAML syntax error: While parsing a flow mapping, did not find expected ',' or '}'. ('{' at line 1, column 6 is not closed)", flow.Message);
    }

    [Fact]
    public void A_configuration_file_over_the_size_limit_is_refused_naming_the_file()
    {
        var path = Path.Combine(TestTemp.CreateSubdirectory("pluginhost-big-").FullName, "pluginhost.yaml");
        using (var w = new StreamWriter(path))
        {
            w.WriteLine("pipelines: []");
            var line = "# " + new string('x', 1000);
            for (var i = 0; i < 4200; i++) w.WriteLine(line);
        }
        var e = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, new Dictionary<string, string>())).Errors);
        Assert.Equal(path, e.File);
        Assert.Equal("is larger than 4 MiB; a configuration is a few KB", e.Message);
    }

    [Theory]
    [InlineData("[[[[", "not valid JSON")]
    [InlineData("{\"a\":1,\"a\":2}", "duplicate key 'a' at line 1, byte 8")]
    [InlineData("{\"a\":{\"b\":1,\"b\":2}}", "duplicate key 'a.b' at line 1, byte 13")]
    public void Bounded_JSON_names_the_problem_and_where(string json, string message)
    {
        var e = Assert.Throws<FormatException>(() => BoundedJson.Parse(json));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Bounded_JSON_reads_64_levels_and_refuses_65_and_30000()
    {
        Assert.NotNull(BoundedJson.Parse(new string('[', 64) + new string(']', 64)));
        Assert.Equal("nested deeper than 64 levels at line 1, byte 65",
            Assert.Throws<FormatException>(() => BoundedJson.Parse(new string('[', 65) + new string(']', 65))).Message);
        Assert.Equal("nested deeper than 64 levels at line 1, byte 65", Assert.Throws<FormatException>(() => BoundedJson.Parse(new string('[', 30_000))).Message);
        Assert.StartsWith("more than 100,000 values", Assert.Throws<FormatException>(() => BoundedJson.Parse("[" + string.Join(",", Enumerable.Repeat("1", 100_001)) + "]")).Message);
    }

    [Fact]
    public async Task Check_refuses_a_sample_event_nested_too_deep_with_a_plain_message()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-check-deep-").FullName;
        var script = Path.Combine(dir, "t.csx");
        await System.IO.File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e) => e;");
        foreach (var sample in new[]
                 {
                     """{"op":"insert","database":"d","table":"t","after":{"id":1,"x":""" + new string('[', 30_000) + "}}",
                     "[" + new string('[', 30_000),
                     """{"op":"insert","database":"d","table":"t","after":{"id":1},"after":{"id":2}}""",
                 })
        {
            var events = Path.Combine(dir, "sample.json");
            await System.IO.File.WriteAllTextAsync(events, sample);
            var output = new StringWriter();
            var errors = new StringWriter();
            var exit = await CheckCommand.RunAsync([script, "--event", events, "--plugins", Path.Combine(dir, "none")], output, errors);
            Assert.Equal(2, exit);
            Assert.Matches(@"^pluginhost check: cannot read the sample event: (nested deeper than 64 levels|duplicate key 'after') at line 1, byte \d+", errors.ToString());
        }
    }
}
