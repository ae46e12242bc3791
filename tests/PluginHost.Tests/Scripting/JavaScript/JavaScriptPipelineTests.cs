using PluginHost.Binlog.Protocol;
using PluginHost.Pipelines;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>JavaScript transforms in real pipelines on a real MariaDB into the file sink: rules, native, reload, broken save, limits.</summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class JavaScriptPipelineTests(MariaDbServer db)
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "transforms", name));

    [Fact]
    public async Task Prensio_rules_the_readme_sample_and_a_mask_rule_end_to_end()
    {
        db.Sql("DROP DATABASE IF EXISTS js_rules; CREATE DATABASE js_rules; CREATE TABLE js_rules.t (id INT PRIMARY KEY, text_col VARCHAR(64), n INT); CREATE TABLE js_rules.heartbeat (id INT PRIMARY KEY);");
        const string rules = """

                  rules:
                    - { name: readme, match_schema: "^js_rules$", match_table: "^t$", file: transforms/readme.js }
                    - { name: mask, match_table: ".*", file: transforms/mask.js }
                    - name: inline
                      match_table: "^t$"
                      script: "function transform(cdc_event) { if (cdc_event.after.length && cdc_event.after[0].n === 99) return ACTION_DROP; }"
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "jsrules", 5321, "js_rules", Sample("readme.js"), new TestHelperSource(),
            scriptFile: "readme.js", transform: rules.TrimEnd());
        await File.WriteAllTextAsync(Path.Combine(p.Directory, "transforms", "mask.js"), Sample("mask.js"));
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("""
            INSERT INTO t VALUES (1, 'hello world', 1), (2, 'abc', 2), (3, 'dropped row', 99);
            INSERT INTO heartbeat VALUES (1);
            UPDATE t SET text_col = 'hello there' WHERE id = 1;
            DELETE FROM t WHERE id = 2;
            """, "js_rules");
        await p.WaitForAsync(() => p.OutputCount() >= 4, "4 events");
        await Task.Delay(300);
        var events = p.Output();
        Assert.Equal(4, events.Count); // row 3 and the heartbeat dropped
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********d\",\"n\":1,\"changed\":1}", events[0]["after"]!.ToJsonString());
        Assert.Equal(1, (int)events[0]["ext"]!);
        Assert.Equal("{\"id\":2,\"text_col\":\"abc\",\"n\":2,\"changed\":1}", events[1]["after"]!.ToJsonString());
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********d\",\"n\":1}", events[2]["before"]!.ToJsonString()); // the mask rule covers before
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********e\",\"n\":1,\"changed\":1}", events[2]["after"]!.ToJsonString());
        Assert.Equal("delete", (string?)events[3]["op"]);
        Assert.DoesNotContain(File.ReadAllLines(p.OutputPath), l => l.Contains("hello", StringComparison.Ordinal));
        Assert.StartsWith("transform.rules@", p.Status.TransformVersion);
    }

    [Fact]
    public async Task Native_route_sample_drops_and_fans_out()
    {
        db.Sql("DROP DATABASE IF EXISTS js_native; CREATE DATABASE js_native; CREATE TABLE js_native.users (id INT PRIMARY KEY, v VARCHAR(16)); CREATE TABLE js_native.heartbeat (id INT PRIMARY KEY);");
        await using var p = await ScriptPipeline.StartAsync(db, "jsnative", 5322, "js_native", Sample("route.js"), null, scriptFile: "route.js");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO users VALUES (1, 'a'); INSERT INTO heartbeat VALUES (1); DELETE FROM users WHERE id = 1;", "js_native");
        await p.WaitForAsync(() => p.OutputCount() >= 3, "3 events");
        await Task.Delay(300);
        var events = p.Output();
        Assert.Equal(["insert", "delete", "delete"], events.Select(e => (string)e["op"]!).ToArray());
        Assert.Null(events[1]["audited_at"]);
        Assert.Equal((string?)events[2]["ts"], (string?)events[2]["audited_at"]);
        Assert.Equal("{\"id\":1,\"v\":\"a\"}", events[2]["before"]!.ToJsonString());
    }

    [Fact]
    public async Task Endless_loop_runaway_allocation_and_deep_recursion_each_stop_only_their_event_under_on_error_skip()
    {
        db.Sql("DROP DATABASE IF EXISTS js_limits; CREATE DATABASE js_limits; CREATE TABLE js_limits.t (id INT PRIMARY KEY);");
        const string script = """
            function transform(e) {
              const id = e.after.id;
              if (id === 2) { while (true) {} }
              if (id === 3) { let a = []; while (true) a.push('x'.repeat(10000) + a.length); }
              if (id === 4) { const f = (n) => f(n + 1) + 1; f(0); }
              return e;
            }
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "jslimits", 5323, "js_limits", script, null, "skip", "    transform_timeout: 2s", scriptFile: "limits.js");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); INSERT INTO t VALUES (4); INSERT INTO t VALUES (5);", "js_limits");
        await p.WaitForAsync(() => p.OutputCount() >= 2 && p.Status.EventsSkipped == 3, "2 events and 3 skipped");
        Assert.Equal([1, 5], p.Output().Select(e => (int)e["after"]!["id"]!).ToArray());
        Assert.Contains(p.Logs.Lines, l => l.Contains("transform exceeded its time limit of 2 s (transforms/limits.js)"));
        Assert.True(p.Logs.Lines.Any(l => l.Contains("MemoryLimitExceededException")), string.Join("\n", p.Logs.Lines));
        Assert.Contains(p.Logs.Lines, l => l.Contains("RecursionDepthOverflowException") || l.Contains("Maximum call stack size exceeded"));
        Assert.Equal(PipelineState.Running, p.Status.State);
    }

    [Fact]
    public async Task A_broken_save_keeps_the_running_version_and_reports_file_line_column()
    {
        db.Sql("DROP DATABASE IF EXISTS js_broken; CREATE DATABASE js_broken; CREATE TABLE js_broken.t (id INT PRIMARY KEY);");
        await using var p = await ScriptPipeline.StartAsync(db, "jsbroken", 5324, "js_broken", "function transform(e) { e.v = 1; }", null, scriptFile: "t.js");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        var v1 = p.Status.TransformVersion;
        await File.WriteAllTextAsync(p.ScriptPath, "function transform(e) {\n  e.v = 2\n  return e.;\n}\n");
        await p.WaitForAsync(() => p.Status.TransformDiagnostics != null, "the broken save's diagnostics");
        Assert.Equal("transforms/t.js(3,12): error JS1001: Unexpected token ';' (transforms/t.js:3:12)", p.Status.TransformDiagnostics);
        // The status shows the diagnostics before the log line is written: wait for it (a loaded run read the log first).
        await p.WaitForAsync(() => p.Logs.Lines.Any(l => l.Contains("transforms/t.js:3:12") && l.Contains("keeps running")), "the broken save's log line");
        db.Sql("INSERT INTO t VALUES (1);", "js_broken");
        await p.WaitForAsync(() => p.OutputCount() >= 1, "1 event");
        Assert.Equal(1, (int)p.Output()[0]["v"]!);
        Assert.Equal(v1, p.Status.TransformVersion);

        await File.WriteAllTextAsync(p.ScriptPath, "function transform(e) { e.v = 3; }");
        await p.WaitForAsync(() => p.Status.TransformVersion != v1, "the fixed version to go live", 30);
        db.Sql("INSERT INTO t VALUES (2);", "js_broken");
        await p.WaitForAsync(() => p.OutputCount() >= 2, "2 events");
        Assert.Equal(3, (int)p.Output()[1]["v"]!);
        Assert.Null(p.Status.TransformDiagnostics);
    }

    [Fact]
    public async Task Hot_reload_of_a_javascript_transform_on_a_running_pipeline_loses_and_doubles_nothing()
    {
        const int transactions = 300, rowsPerTransaction = 100, total = transactions * rowsPerTransaction;
        db.Sql("DROP DATABASE IF EXISTS js_reload; CREATE DATABASE js_reload; CREATE TABLE js_reload.t (id INT PRIMARY KEY, pad VARCHAR(16));");
        static string Version(int v) => $"let seen = 0;\nfunction transform(e) {{ e.v = {v}; e.seen = ++seen; }}\n";
        await using var p = await ScriptPipeline.StartAsync(db, "jsreload", 5325, "js_reload", Version(1), null, scriptFile: "t.js");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        var writer = Task.Run(async () =>
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            for (var tx = 0; tx < transactions; tx++)
            {
                var from = tx * rowsPerTransaction + 1;
                await c.ExecuteAsync("INSERT INTO js_reload.t VALUES " + string.Join(",", Enumerable.Range(from, rowsPerTransaction).Select(i => $"({i},'x')")));
                await Task.Delay(tx % 2 == 0 ? 8 : 0);
            }
        });
        await p.WaitForAsync(() => p.OutputCount() >= total / 4, "a quarter of the stream", 60);
        await File.WriteAllTextAsync(p.ScriptPath, Version(2));
        await writer;
        await p.WaitForAsync(() => p.OutputCount() >= total, $"{total} events", 90);
        await Task.Delay(300);

        var events = p.Output();
        Assert.Equal(total, events.Count);
        Assert.Equal(Enumerable.Range(1, total), events.Select(e => (int)e["after"]!["id"]!));
        var versions = events.Select(e => (int)e["v"]!).ToArray();
        var switchAt = Array.IndexOf(versions, 2);
        Assert.True(switchAt > 0 && switchAt < total - rowsPerTransaction, $"switch at {switchAt}");
        Assert.All(versions[..switchAt], v => Assert.Equal(1, v));
        Assert.All(versions[switchAt..], v => Assert.Equal(2, v));
        Assert.Equal(0, switchAt % rowsPerTransaction);
        Assert.Equal(Enumerable.Range(1, switchAt).Select(i => (long)i), events[..switchAt].Select(e => (long)e["seen"]!));
        Assert.Equal(Enumerable.Range(1, total - switchAt).Select(i => (long)i), events[switchAt..].Select(e => (long)e["seen"]!));
    }
}
