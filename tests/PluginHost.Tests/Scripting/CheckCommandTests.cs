using System.Text.Json.Nodes;
using PluginHost.Cli;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting;

/// <summary><c>pluginhost check</c> on the shipped samples (with the real UserFunctions plugin) and on broken scripts.</summary>
public sealed class CheckCommandTests
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
    public async Task Obfuscate_csx_with_the_UserFunctions_plugin_prints_the_transformed_event()
    {
        var (exit, stdout, stderr) = await CheckAsync(Transforms("obfuscate.csx"), "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        var e = JsonNode.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(1, (int)e["ext"]!);
        Assert.Equal(1, (int)e["after"]!["changed"]!);
        Assert.Equal("h*********e", (string?)e["after"]!["text_col"]); // "hello there", by UserFunctions.tObfString
        Assert.Equal("h*********d", (string?)e["before"]!["text_col"]); // "hello world": the old row is masked too
        Assert.Null(e["before"]!["changed"]);
        Assert.Contains("PluginHost.Plugins.UserFunctions.UserFunctions", stderr);
    }

    [Fact]
    public async Task The_other_samples_route_and_drop_audit_columns()
    {
        var (exit, stdout, stderr) = await CheckAsync(Transforms("route_topics.csx"), "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        Assert.Contains("event 1: destination cdc.shop.users", stderr);
        Assert.Equal(1, (int)JsonNode.Parse(stdout)!["route_seq"]!);

        (exit, stdout, stderr) = await CheckAsync(Transforms("drop_audit_columns.csx"), "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        var e = JsonNode.Parse(stdout)!;
        Assert.Equal("{\"id\":42,\"name\":\"Ann Smith\",\"email\":\"ann.smith@example.com\",\"text_col\":\"hello there\"}", e["after"]!.ToJsonString());
        Assert.Equal("{\"id\":42,\"name\":\"Ann Smith\",\"email\":\"ann@example.com\",\"text_col\":\"hello world\"}", e["before"]!.ToJsonString());

        // an update that touched only audit columns is dropped
        var dir = ScriptTestKit.TempDir();
        var sample = Path.Combine(dir, "sample.jsonl");
        await File.WriteAllTextAsync(sample, """
            {"op":"update","database":"shop","table":"users","before":{"id":1,"updated_at":"2026-01-01 00:00:00"},"after":{"id":1,"updated_at":"2026-01-02 00:00:00"}}
            {"op":"insert","database":"shop","table":"heartbeat","before":null,"after":{"id":1,"password_hash":"x"}}
            """);
        (exit, stdout, stderr) = await CheckAsync(Transforms("drop_audit_columns.csx"), "--event", sample, "--plugins", BuiltPlugins);
        Assert.True(exit == 0, stderr);
        Assert.Contains("event 1: dropped", stderr);
        Assert.Equal("{\"id\":1}", JsonNode.Parse(stdout)!["after"]!.ToJsonString());
    }

    [Fact]
    public async Task A_broken_script_prints_diagnostics_and_exits_non_zero()
    {
        var dir = ScriptTestKit.TempDir();
        var script = Path.Combine(dir, "broken.csx");
        await File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e)\n{\n    e.Extra[\"x\"] = tNoSuchHelper(e.Table);\n    return e;\n}\n");
        var (exit, stdout, stderr) = await CheckAsync(script, "--plugins", BuiltPlugins);
        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains($"{script}(3,20): error CS0103: The name 'tNoSuchHelper' does not exist in the current context", stderr);

        await File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e) => throw new InvalidOperationException(\"nope\");\n");
        (exit, _, stderr) = await CheckAsync(script, "--plugins", Path.Combine(dir, "no-plugins"));
        Assert.Equal(1, exit);
        Assert.Contains($"event 1: the transform failed: ScriptException: InvalidOperationException: nope (at {script}:line 1)", stderr);

        (exit, _, _) = await CheckAsync(Path.Combine(dir, "missing.csx"));
        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task A_script_that_loops_or_blocks_ends_check_with_an_error()
    {
        var dir = ScriptTestKit.TempDir();
        var script = Path.Combine(dir, "stuck.csx");
        await File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e)\n{\n    while (true) { }\n}\n");
        var (exit, stdout, stderr) = await CheckAsync(script, "--plugins", BuiltPlugins, "--timeout", "200ms");
        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains("event 1: the transform failed: TransformTimeoutException", stderr);
        Assert.Contains($"stopped in the loop at {script}:line 3", stderr);

        // Blocked where no check can stop it: check gives up after the limit and a grace period, and says why.
        await File.WriteAllTextAsync(script, "ChangeEvent Transform(ChangeEvent e)\n{\n    System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);\n    return e;\n}\n");
        (exit, stdout, stderr) = await CheckAsync(script, "--plugins", BuiltPlugins, "--timeout", "200ms");
        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains("event 1: the transform did not return within 2.2 s (time limit 0.2 s): it is blocked outside any loop", stderr);
    }
}
