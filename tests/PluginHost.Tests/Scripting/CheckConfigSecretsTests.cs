using System.Text.Json.Nodes;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting;

/// <summary>
/// <c>pluginhost check SCRIPT --config FILE</c> (the real process) needs only the configuration's plugins_dir: secrets the
/// file takes from the environment (the database password, the admin token) may be unset, and are not asked for.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CheckConfigSecretsTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Check_with_a_config_whose_secret_variables_are_unset_compiles_and_runs_the_script()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-check-secrets-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, $$"""
            plugins_dir: {{Path.Combine(RepoPaths.RepoRoot, "artifacts", "plugins")}}
            server: { listen: "127.0.0.1:18081", admin_token: "${PLUGINHOST_ADMIN_TOKEN}" }
            pipelines:
              - name: orders
                source: { host: 127.0.0.1, port: 3306, user: cdc, password: "${DB_PASSWORD}", server_id: 7 }
                transform: obfuscate.csx
                sink: { type: file, path: out.jsonl }
            """);
        var unset = new Dictionary<string, string?> { ["DB_PASSWORD"] = null, ["PLUGINHOST_ADMIN_TOKEN"] = null };
        var script = Path.Combine(RepoPaths.RepoRoot, "transforms", "obfuscate.csx");

        var result = await HostCommand.RunAsync(HangGuard, unset, "check", script, "--config", config);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var e = JsonNode.Parse(result.StandardOutput)!;
        Assert.Equal("h*********e", (string?)e["after"]!["text_col"]); // the helper plugin came from the config's plugins_dir
        Assert.Contains("PluginHost.Plugins.UserFunctions.UserFunctions", result.StandardError);
        Assert.DoesNotContain("DB_PASSWORD", result.StandardError);

        // A variable that is not a secret is still required, and named (the secrets still are not).
        File.WriteAllText(config, File.ReadAllText(config).Replace("host: 127.0.0.1,", "host: \"${DB_HOST}\","));
        result = await HostCommand.RunAsync(HangGuard, new Dictionary<string, string?>(unset) { ["DB_HOST"] = null }, "check", script, "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("DB_HOST", result.StandardError);
        Assert.DoesNotContain("DB_PASSWORD", result.StandardError);
        Assert.DoesNotContain("PLUGINHOST_ADMIN_TOKEN", result.StandardError);
        Directory.Delete(dir, true);
    }
}
