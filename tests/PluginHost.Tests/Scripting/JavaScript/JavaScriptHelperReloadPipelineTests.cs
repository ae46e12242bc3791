using PluginHost.Binlog.Protocol;
using PluginHost.Pipelines;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>A helper plugin reloaded under a running JavaScript rule chain on the real MariaDB: no event lost, none transformed twice or by no version.</summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class JavaScriptHelperReloadPipelineTests(MariaDbServer db)
{
    [Fact]
    public async Task A_helper_plugin_reload_under_a_running_rule_chain_switches_at_a_transaction_boundary_losing_and_doubling_nothing()
    {
        const int transactions = 300, rowsPerTransaction = 100, total = transactions * rowsPerTransaction;
        db.Sql("DROP DATABASE IF EXISTS js_helper_reload; CREATE DATABASE js_helper_reload; CREATE TABLE js_helper_reload.t (id INT PRIMARY KEY, pad VARCHAR(16));");
        const string rules = """

                  rules:
                    - name: tag
                      script: "let seen = 0; function transform(c) { c.tag = Tag(); c.seen = ++seen; }"
            """;
        var helpers = new TestHelperSource();
        await using var p = await ScriptPipeline.StartAsync(db, "jshelperreload", 5326, "js_helper_reload", "// unused", helpers, transform: rules.TrimEnd());
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        var v1 = p.Status.TransformVersion;
        var writer = Task.Run(async () =>
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            for (var tx = 0; tx < transactions; tx++)
            {
                var from = tx * rowsPerTransaction + 1;
                await c.ExecuteAsync("INSERT INTO js_helper_reload.t VALUES " + string.Join(",", Enumerable.Range(from, rowsPerTransaction).Select(i => $"({i},'x')")));
                await Task.Delay(tx % 2 == 0 ? 8 : 0);
            }
        });
        await p.WaitForAsync(() => p.OutputCount() >= total / 4, "a quarter of the stream", 60);
        helpers.Reload(TestHelperSource.DefaultSource.Replace("\"v1\"", "\"v2\""));
        await writer;
        await p.WaitForAsync(() => p.OutputCount() >= total, $"{total} events", 90);
        await Task.Delay(300);

        var events = p.Output();
        Assert.Equal(total, events.Count);
        Assert.Equal(Enumerable.Range(1, total), events.Select(e => (int)e["after"]!["id"]!));
        var tags = events.Select(e => (string)e["tag"]!).ToArray();
        var switchAt = Array.IndexOf(tags, "v2");
        Assert.True(switchAt > 0 && switchAt < total - rowsPerTransaction, $"switch at {switchAt}");
        Assert.All(tags[..switchAt], t => Assert.Equal("v1", t));
        Assert.All(tags[switchAt..], t => Assert.Equal("v2", t));
        Assert.Equal(0, switchAt % rowsPerTransaction); // at a transaction boundary
        // Each version's own state counted its events once each: none seen twice, none by no version.
        Assert.Equal(Enumerable.Range(1, switchAt).Select(i => (long)i), events[..switchAt].Select(e => (long)e["seen"]!));
        Assert.Equal(Enumerable.Range(1, total - switchAt).Select(i => (long)i), events[switchAt..].Select(e => (long)e["seen"]!));
        Assert.NotEqual(v1, p.Status.TransformVersion);
    }
}
