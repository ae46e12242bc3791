using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.Playwright;
using Microsoft.CodeAnalysis.CSharp;
using PluginHost.Config;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>
/// A JavaScript rule chain in a whole host (REST API, health) on the real MariaDB, with a helper plugin loaded from its
/// folder: the rules and their compile state in <c>GET /pipelines/{name}</c>, and a helper function that blocks shown
/// stuck (naming the rule and the helper) in the API and <c>/health</c>, the stream going on once it returns; the
/// dashboard (in Debian's chromium) lists the rules.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class JavaScriptApiTests(MariaDbServer db)
{
    /// <summary>UserFunctions, rebuilt with a tObfString that blocks for 3 s on the value "slow".</summary>
    private static void WriteBlockingUserFunctions(string pluginsDir)
    {
        var folder = Path.Combine(pluginsDir, "UserFunctions");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Path.Combine(PluginDirectories.BuiltPlugins, "UserFunctions")).Where(f => !f.EndsWith(".pdb", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        const string source = """
            namespace PluginHost.Plugins.UserFunctions;
            [PluginHost.Sdk.HelperFunctions]
            public static class UserFunctions
            {
                public static string? tObfString(string? value)
                {
                    if (value == "slow") System.Threading.Thread.Sleep(3000);
                    return value is null ? null : new string('#', value.Length);
                }
            }
            """;
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == dir).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(ChangeEvent).Assembly.Location));
        var compilation = CSharpCompilation.Create("PluginHost.Plugins.UserFunctions", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var pe = new MemoryStream();
        var emit = compilation.Emit(pe);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        File.WriteAllBytes(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.dll"), pe.ToArray());
    }

    private static string Rules(JsonElement p) => string.Join(" | ", p.GetProperty("transform").GetProperty("rules").EnumerateArray().Select(r =>
        $"{r.GetProperty("name").GetString()} {r.GetProperty("file").GetString() ?? "inline=" + r.GetProperty("inline").GetBoolean()} " +
        $"/{r.GetProperty("match_schema").GetString()}/{r.GetProperty("match_table").GetString()}/ {r.GetProperty("state").GetString()}"));

    [Fact]
    public async Task The_rules_show_in_the_api_and_a_blocking_helper_shows_the_pipeline_stuck_then_the_stream_goes_on()
    {
        var database = "jsapi_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(16));");
        var dir = TestTemp.CreateSubdirectory("pluginhost-jsapi-").FullName;
        WriteBlockingUserFunctions(Path.Combine(dir, "plugins"));
        File.WriteAllText(Path.Combine(dir, "tag.js"), "function transform(c) { c.tagged = true; }\n");
        var pipeline = ApiTestHost.PipelineYaml(db, "jsapi", database, extra: """
                transform_timeout: 200ms
                on_error: skip
                transform:
                  rules:
                    - { name: mask, match_table: "^t$", script: "function transform(c) { c.after.forEach(r => { r.v = tObfString(r.v); }); }" }
                    - { name: tag, match_schema: "^jsapi_", file: tag.js }
            """.TrimEnd());
        ApiTestHost.WriteConfig(dir, MariaDbServer.FreePort(), ApiTestHost.Token, pipeline);
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), File.ReadAllText(Path.Combine(dir, "pluginhost.yaml")).Replace("plugins_dir: no-plugins", "plugins_dir: plugins"));
        await using var host = await ApiTestHost.StartAsync(dir);
        var p = await host.WaitForStateAsync("jsapi", "running");

        // The chain: each rule with what it matches and its compile state.
        Assert.Equal("transform.rules", p.GetProperty("transform").GetProperty("path").GetString());
        Assert.StartsWith("transform.rules@", p.GetProperty("transform").GetProperty("version").GetString());
        Assert.Equal("mask inline=True //^t$/ ok | tag tag.js /^jsapi_// ok", Rules(p));

        // A helper that blocks: the pipeline is shown stuck, naming the rule and the helper, in the API and /health.
        db.Sql("INSERT INTO t VALUES (1, 'abc'); INSERT INTO t VALUES (2, 'slow'); INSERT INTO t VALUES (3, 'xyz');", database);
        p = await host.WaitForAsync("jsapi", x => x.GetProperty("state").GetString() == "failed", "the stuck report", 30);
        var error = p.GetProperty("last_error").GetProperty("message").GetString()!;
        Assert.StartsWith("transform mask (inline) is stuck in helper function tObfString (plugin UserFunctions): one event has waited ", error);
        var (_, health, _) = await host.GetAsync("health");
        Assert.Equal("failed", health.GetProperty("pipelines").GetProperty("jsapi").GetProperty("state").GetString());
        Assert.Contains("stuck in helper function tObfString", health.GetProperty("pipelines").GetProperty("jsapi").GetProperty("last_error").GetString());

        // It returns: that event fails with a timeout (on_error: skip), the pipeline runs again, the next row goes through.
        p = await host.WaitForAsync("jsapi", x => x.GetProperty("state").GetString() == "running" && x.GetProperty("events").GetProperty("out").GetInt64() >= 2,
            "the pipeline to run on", 30);
        Assert.Equal(1, p.GetProperty("events").GetProperty("skipped").GetInt64());
        Assert.Contains(host.Logs.Lines, l => l.Contains("helper function tObfString ran over"));
        var rows = File.ReadAllLines(Path.Combine(dir, "out-jsapi.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1, 3], rows.Select(r => r.GetProperty("after").GetProperty("id").GetInt32()));
        Assert.Equal(["###", "###"], rows.Select(r => r.GetProperty("after").GetProperty("v").GetString()));

        // A broken save of one rule: that rule shows its error, the other stays ok, the running version stays.
        var version = p.GetProperty("transform").GetProperty("version").GetString();
        File.WriteAllText(Path.Combine(dir, "tag.js"), "function transform(c) {\n  c.tagged = ;\n}\n");
        p = await host.WaitForAsync("jsapi", x => Rules(x).EndsWith(" error", StringComparison.Ordinal), "the broken rule's error", 30);
        Assert.Equal("mask inline=True //^t$/ ok | tag tag.js /^jsapi_// error", Rules(p));
        var tag = p.GetProperty("transform").GetProperty("rules")[1];
        Assert.StartsWith("tag.js(2,14): error JS1001: Unexpected token ';'", tag.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, p.GetProperty("transform").GetProperty("rules")[0].GetProperty("error").ValueKind);
        Assert.Equal(version, p.GetProperty("transform").GetProperty("version").GetString());

        // The dashboard lists the rules with their state.
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = PluginHost.Tests.Api.DashboardBrowserTests.Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Http.BaseAddress!.ToString());
        var rules = page.Locator("section.card[data-pipeline='jsapi'] .transform .rules");
        await Assertions.Expect(rules).ToHaveTextAsync("ok  mask  ·  inline  ·  schema // table /^t$/\nerror  tag  ·  tag.js  ·  schema /^jsapi_/ table //");
    }
}
