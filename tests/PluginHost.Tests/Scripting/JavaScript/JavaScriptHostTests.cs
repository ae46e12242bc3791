using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Cli;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Scripting.JavaScript;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>The JavaScript lifecycle around the pipeline: helper plugin reload, <c>pluginhost check x.js</c>, the <c>transform:</c> config.</summary>
public sealed class JavaScriptHostTests
{
    private static string Transforms(string name) => Path.Combine(RepoPaths.RepoRoot, "transforms", name);
    private static string BuiltPlugins => Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins");

    private static async Task<(int Exit, string Out, string Err)> CheckAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CheckCommand.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task A_helper_plugin_reload_reloads_the_scripts_that_call_it_and_only_those()
    {
        var helpers = new TestHelperSource();
        var dir = TempDir();
        await File.WriteAllTextAsync(Path.Combine(dir, "user.js"), "function transform(e) { e.tag = Tag(); }");
        await File.WriteAllTextAsync(Path.Combine(dir, "plain.js"), "function transform(e) { e.plain = true; }");
        var status = new PipelineStatus("js");
        using var user = new ScriptTransformHost(JavaScriptTransformSource.Native("js", Path.Combine(dir, "user.js")), "user.js", helpers, TimeSpan.FromSeconds(1), status, NullLogger.Instance)
            { WatchFile = false, Debounce = TimeSpan.FromMilliseconds(50) };
        using var plain = new ScriptTransformHost(JavaScriptTransformSource.Native("js", Path.Combine(dir, "plain.js")), "plain.js", helpers, TimeSpan.FromSeconds(1), new PipelineStatus("p"), NullLogger.Instance)
            { WatchFile = false, Debounce = TimeSpan.FromMilliseconds(50) };
        var first = await user.StartAsync(CancellationToken.None);
        var plainFirst = await plain.StartAsync(CancellationToken.None);
        Assert.Equal("v1", Run(first, Update(1, "a"))[0].Extra["tag"]);

        helpers.Reload(TestHelperSource.DefaultSource.Replace("\"v1\"", "\"v2\""));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (ReferenceEquals(user.Current, first) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal("v2", Run(user.Current!, Update(1, "a"))[0].Extra["tag"]);
        await Task.Delay(300);
        Assert.Same(plainFirst, plain.Current); // it calls no helper: left alone
    }

    [Fact]
    public async Task Check_runs_the_readme_sample_as_a_prensio_rule_with_the_UserFunctions_plugin()
    {
        var (exit, stdout, stderr) = await CheckAsync(Transforms("readme.js"), "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        Assert.Contains("prensio contract", stderr);
        var e = System.Text.Json.Nodes.JsonNode.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(1, (int)e["ext"]!);
        Assert.Equal("h*********e", (string?)e["after"]!["text_col"]);
        Assert.Contains("event 1: destination shop.users", stderr);

        (exit, stdout, stderr) = await CheckAsync(Transforms("route.js"), "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        Assert.Contains("native contract", stderr);
        Assert.Contains("event 1: destination shop.users", stderr);
    }

    [Fact]
    public async Task Check_reports_a_syntax_error_with_file_line_column_and_a_failing_event()
    {
        var dir = TempDir();
        var broken = Path.Combine(dir, "broken.js");
        await File.WriteAllTextAsync(broken, "function transform(e) {\n  return e.;\n}\n");
        var (exit, _, stderr) = await CheckAsync(broken, "--plugins", BuiltPlugins);
        Assert.Equal(1, exit);
        Assert.Contains($"{broken}(2,12): error JS1001: Unexpected token ';' ({broken}:2:12)", stderr);

        var looping = Path.Combine(dir, "loop.js");
        await File.WriteAllTextAsync(looping, "function transform(e) { while (true) {} }");
        (exit, _, stderr) = await CheckAsync(looping, "--plugins", BuiltPlugins, "--timeout", "200ms");
        Assert.Equal(1, exit);
        Assert.Contains("event 1: the transform failed: TransformTimeoutException: transform exceeded its time limit of 0.2 s", stderr);
    }

    [Fact]
    public void The_transform_key_takes_a_js_file_or_rules_and_names_every_bad_key()
    {
        const string head = """
            pipelines:
              - name: p
                source: { host: db, user: u, password: x, server_id: 7 }
                sink: { type: file, path: out.jsonl }
            """;
        var ok = ConfigLoader.Parse(head + "\n    transform: transforms/route.js\n", "/etc/ph.yaml", new Dictionary<string, string>(), null).Pipelines[0];
        Assert.Equal("transforms/route.js", ok.TransformPath);
        var rules = ConfigLoader.Parse(head + """

                transform:
                  language: javascript
                  rules:
                    - { name: mask, match_schema: "^shop$", match_table: ".*", file: transforms/mask.js }
                    - { name: inline, script: "function transform(c) { return ACTION_CONT; }" }
            """, "/etc/ph.yaml", new Dictionary<string, string>(), null).Pipelines[0];
        Assert.Null(rules.TransformPath);
        Assert.Equal(["mask", "inline"], rules.TransformRules!.Select(r => r.Name));
        Assert.True(rules.TransformRules![0].Matches("shop", "users"));
        Assert.False(rules.TransformRules[0].Matches("crm", "users"));
        Assert.Equal("inline (inline)", rules.TransformRules[1].DisplayName);

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(head + """

                transform:
                  language: lua
                  rules:
                    - { name: a, match_table: "([", file: a.js }
                    - { name: a, file: b.txt }
                    - { name: c }
                    - { name: d, file: d.js, script: "x", colour: red }
            """, "/etc/ph.yaml", new Dictionary<string, string>(), null));
        var keys = e.Errors.Select(x => x.Key).ToList();
        Assert.Contains("transform.language", keys);
        Assert.Contains("transform.rules[0].match_table", keys);
        Assert.Contains("transform.rules[1].name", keys);
        Assert.Contains("transform.rules[3].colour", keys);
        Assert.Contains(e.Errors, x => x.Key == "transform.rules[0].match_table" && x.Message.StartsWith("not a valid regular expression", StringComparison.Ordinal));
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(head + "\n    transform: transforms/route.py\n", "/etc/ph.yaml", new Dictionary<string, string>(), null));
        Assert.Contains(bad.Errors, x => x.Key == "transform" && x.Message.Contains(".csx or .js", StringComparison.Ordinal));
        var missing = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(head + "\n    transform:\n      rules:\n        - { name: c }\n", "/etc/ph.yaml", new Dictionary<string, string>(), null));
        Assert.Contains(missing.Errors, x => x.Key == "transform.rules[0]" && x.Message == "needs exactly one of file and script");
    }
}
