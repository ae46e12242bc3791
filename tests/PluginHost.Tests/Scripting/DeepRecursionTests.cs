using System.Diagnostics;
using System.Text.Json.Nodes;
using PluginHost.Pipelines;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting;

/// <summary>
/// A transform that recurses without bound meets an ordinary exception (on_error applies) instead of a stack overflow,
/// which would end the process and every pipeline in it: in a pipeline on MariaDB, and in a real host process.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DeepRecursionTests(MariaDbServer db)
{
    /// <summary>Row 2 recurses ten million deep through a method, row 4 through a recursive lambda; the rest pass.</summary>
    private const string Script = """
        long Depth(long n) => n <= 0 ? 0 : 1 + Depth(n - 1);
        Func<long, long> Down = null!;
        Down = n => n <= 0 ? 0 : 1 + Down(n - 1);

        ChangeEvent Transform(ChangeEvent e)
        {
            var id = e.After!.Get<long>("id");
            if (id == 2) e.Extra["depth"] = Depth(10_000_000);
            if (id == 4) e.Extra["depth"] = Down(10_000_000);
            return e;
        }
        """;

    [Fact]
    public async Task Unbounded_recursion_is_an_error_on_error_skip_handles_and_the_pipeline_goes_on()
    {
        db.Sql("DROP DATABASE IF EXISTS script_deep; CREATE DATABASE script_deep; CREATE TABLE script_deep.t (id INT PRIMARY KEY);");
        await using var p = await ScriptPipeline.StartAsync(db, "deep", 5390, "script_deep", Script, null, "skip");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql(string.Concat(Enumerable.Range(1, 5).Select(i => $"INSERT INTO t VALUES ({i});\n")), "script_deep");
        await p.WaitForAsync(() => p.OutputCount() >= 3 && p.Status.EventsSkipped == 2, "3 events and 2 skipped", 60);
        Assert.Equal([1, 3, 5], p.Output().Select(e => (int)e["after"]!["id"]!).ToArray());
        Assert.Contains(p.Logs.Lines, l => l.Contains("InsufficientExecutionStackException: the transform recursed too deep") && l.Contains("transforms/t.csx:line 1"));
        Assert.Contains(p.Logs.Lines, l => l.Contains("the transform recursed too deep") && l.Contains("transforms/t.csx:line 3"));
        Assert.Equal(PipelineState.Running, p.Status.State);
    }

    [Fact]
    public async Task A_dead_letter_of_a_too_deep_event_is_small()
    {
        db.Sql("DROP DATABASE IF EXISTS script_deep_dl; CREATE DATABASE script_deep_dl; CREATE TABLE script_deep_dl.t (id INT PRIMARY KEY);");
        await using var p = await ScriptPipeline.StartAsync(db, "deep-dl", 5391, "script_deep_dl", Script, null, "dead_letter");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);", "script_deep_dl");
        await p.WaitForAsync(() => p.OutputCount() >= 2 && p.Status.EventsDeadLettered == 1 && File.Exists(p.DeadLetterPath)
                                   && File.ReadAllText(p.DeadLetterPath).EndsWith('\n'), "2 events and 1 dead letter", 60);
        var text = File.ReadAllText(p.DeadLetterPath);
        Assert.True(text.Length < 20_000, $"a dead letter of {text.Length} chars (the stack of every recursion frame?)");
        var letter = JsonNode.Parse(text.Trim())!;
        Assert.Equal(2, (int)letter["event"]!["after"]!["id"]!);
        Assert.Equal(1, (int)letter["exception"]!["line"]!);
        Assert.Equal("System.InsufficientExecutionStackException", (string?)letter["exception"]!["inner"]!["type"]);
    }

    [Fact]
    public async Task The_host_process_survives_a_transform_that_recurses_without_bound()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-deep-").FullName;
        db.Sql("DROP DATABASE IF EXISTS proc_deep; CREATE DATABASE proc_deep; CREATE TABLE proc_deep.t (id INT PRIMARY KEY);");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        File.WriteAllText(Path.Combine(dir, "transforms", "deep.csx"), Script);
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, $$"""
            state_dir: state
            plugins_dir: no-plugins
            server: { enabled: false }
            pipelines:
              - name: deep
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 5392, ssl: none, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["proc_deep.*"] }
                transform: transforms/deep.csx
                on_error: skip
                sink: { type: file, path: out.jsonl, fsync: false }
            """);
        using var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", config);
        db.Sql(string.Concat(Enumerable.Range(1, 5).Select(i => $"INSERT INTO t VALUES ({i});\n")), "proc_deep");
        var output = Path.Combine(dir, "out.jsonl");
        var clock = Stopwatch.StartNew();
        string[] lines = [];
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && !host.HasExited)
        {
            if (File.Exists(output)) lines = File.ReadAllLines(output);
            if (lines.Length >= 3) break;
            await Task.Delay(200);
        }
        Assert.False(host.HasExited, $"the host exited:\n{host.ReadLog()}");
        Assert.Equal([1, 3, 5], lines.Select(l => (int)JsonNode.Parse(l)!["after"]!["id"]!).ToArray());
        await Task.Delay(500);
        Assert.False(host.HasExited, $"the host exited:\n{host.ReadLog()}");
        Assert.Contains("the transform recursed too deep", host.ReadLog());
        Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "no graceful exit on SIGTERM");
    }
}
