using System.Text.Json.Nodes;
using PluginHost.Binlog.Protocol;
using PluginHost.Pipelines;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting;

/// <summary>Transform scripts in real pipelines on a real MariaDB: the seed example, drop/fan-out, on_error, hot reload, time limit.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ScriptPipelineTests(MariaDbServer db)
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "transforms", name));

    [Fact]
    public async Task Seed_example_obfuscate_csx_end_to_end()
    {
        db.Sql("DROP DATABASE IF EXISTS script_seed; CREATE DATABASE script_seed; CREATE TABLE script_seed.t (id INT PRIMARY KEY, text_col VARCHAR(64), n INT);");
        await using var p = await ScriptPipeline.StartAsync(db, "seed", 5301, "script_seed", Sample("obfuscate.csx"), new TestHelperSource());
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("""
            INSERT INTO t VALUES (1, 'hello world', 1), (2, 'abc', 2), (3, NULL, 3);
            UPDATE t SET text_col = 'hello there', n = 10 WHERE id = 1;
            DELETE FROM t WHERE id = 1;
            """, "script_seed");
        await p.WaitForAsync(() => p.OutputCount() >= 5, "5 events");
        var lines = File.ReadAllLines(p.OutputPath);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Contains(",\"ext\":1}", l));
        var events = p.Output();
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********d\",\"n\":1,\"changed\":1}", events[0]["after"]!.ToJsonString());
        Assert.Equal("{\"id\":2,\"text_col\":\"abc\",\"n\":2,\"changed\":1}", events[1]["after"]!.ToJsonString());
        Assert.Equal("{\"id\":3,\"text_col\":null,\"n\":3,\"changed\":1}", events[2]["after"]!.ToJsonString());
        Assert.Equal("update", (string?)events[3]["op"]);
        // Both images are masked: the old row of an update and the row of a delete would otherwise leak the clear text.
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********d\",\"n\":1}", events[3]["before"]!.ToJsonString());
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********e\",\"n\":10,\"changed\":1}", events[3]["after"]!.ToJsonString());
        Assert.Equal("delete", (string?)events[4]["op"]);
        Assert.Equal("{\"id\":1,\"text_col\":\"h*********e\",\"n\":10}", events[4]["before"]!.ToJsonString());
        Assert.Null(events[4]["after"]);
        Assert.DoesNotContain(File.ReadAllLines(p.OutputPath), l => l.Contains("hello", StringComparison.Ordinal));
        Assert.StartsWith("t.csx@", p.Status.TransformVersion);
        Assert.Null(p.Status.TransformDiagnostics);
    }

    [Fact]
    public async Task Drop_and_fan_out_in_a_pipeline()
    {
        db.Sql("DROP DATABASE IF EXISTS script_fan; CREATE DATABASE script_fan; CREATE TABLE script_fan.t (id INT PRIMARY KEY, v VARCHAR(16));");
        const string script = """
            IEnumerable<ChangeEvent> Transform(ChangeEvent e)
            {
                var id = e.Current!.Get<long>("id");
                if (id % 2 == 0) yield break;             // drop even ids
                yield return e;
                if (id % 5 == 0)                          // and copy multiples of 5 to an audit topic
                {
                    var copy = e.Clone();
                    copy.Destination = "audit";
                    copy.Extra["copy_of"] = id;
                    yield return copy;
                }
            }
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "fan", 5302, "script_fan", script, null);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES " + string.Join(",", Enumerable.Range(1, 20).Select(i => $"({i},'r{i}')")) + ";", "script_fan");
        // odd ids: 10 events, plus copies of 5 and 15
        await p.WaitForAsync(() => p.OutputCount() >= 12 && p.Status.EventsDropped == 10, "12 events out and 10 dropped");
        var events = p.Output();
        Assert.Equal([1, 3, 5, 5, 7, 9, 11, 13, 15, 15, 17, 19], events.Select(e => (int)e["after"]!["id"]!).ToArray());
        Assert.Equal([5L, 15L], events.Where(e => e["copy_of"] != null).Select(e => (long)e["copy_of"]!).ToArray());
        Assert.Equal(10, p.Status.EventsDropped);
    }

    private const string Thrower = """
        // fails on every third row
        ChangeEvent Transform(ChangeEvent e)
        {
            var id = e.After!.Get<long>("id");
            if (id % 3 == 0) throw new InvalidOperationException($"no multiples of three ({id})");
            e.Extra["ok"] = true;
            return e;
        }
        """;

    [Fact]
    public async Task On_error_stop_skip_and_dead_letter()
    {
        db.Sql("DROP DATABASE IF EXISTS script_err; CREATE DATABASE script_err; CREATE TABLE script_err.t (id INT PRIMARY KEY);");
        await using var stop = await ScriptPipeline.StartAsync(db, "err-stop", 5303, "script_err", Thrower, null, "stop");
        await using var skip = await ScriptPipeline.StartAsync(db, "err-skip", 5304, "script_err", Thrower, null, "skip");
        await using var dead = await ScriptPipeline.StartAsync(db, "err-dead", 5305, "script_err", Thrower, null, "dead_letter");
        foreach (var p in new[] { stop, skip, dead }) await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        // one transaction per row: ids 1..10
        db.Sql(string.Concat(Enumerable.Range(1, 10).Select(i => $"INSERT INTO t VALUES ({i});\n")), "script_err");

        await skip.WaitForAsync(() => skip.OutputCount() >= 7 && skip.Status.EventsSkipped == 3, "7 events and 3 skipped");
        Assert.Equal([1, 2, 4, 5, 7, 8, 10], skip.Output().Select(e => (int)e["after"]!["id"]!).ToArray());
        Assert.Contains(skip.Logs.Lines, l => l.Contains("no multiples of three (3) (at transforms/t.csx:line 5)"));

        await dead.WaitForAsync(() => dead.OutputCount() >= 7 && dead.Status.EventsDeadLettered == 3, "7 events and 3 dead-lettered");
        var letters = File.ReadAllLines(dead.DeadLetterPath).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal([3, 6, 9], letters.Select(l => (int)l["event"]!["after"]!["id"]!).ToArray());
        Assert.All(letters, l => Assert.Equal("transform", (string?)l["stage"]));
        Assert.Equal("ScriptException: InvalidOperationException: no multiples of three (6) (at transforms/t.csx:line 5)", (string?)letters[1]["error"]);

        await stop.WaitForAsync(() => stop.Status.State == PipelineState.Failed, "the stop pipeline to fail");
        Assert.Contains("no multiples of three (3) (at transforms/t.csx:line 5)", stop.Status.LastError);
        // Nothing from the failing event on; 1 and 2 only if they were written in an earlier batch (else they are
        // read again from the checkpoint when the pipeline restarts).
        var delivered = stop.Output().Select(e => (int)e["after"]!["id"]!).ToArray();
        Assert.Equal(new[] { 1, 2 }.Take(delivered.Length), delivered);
        Assert.Equal(0, stop.Status.EventsSkipped + stop.Status.EventsDeadLettered);
    }

    [Fact]
    public async Task A_dead_letter_line_has_the_event_as_read_and_the_whole_exception()
    {
        db.Sql("DROP DATABASE IF EXISTS script_dlq; CREATE DATABASE script_dlq; CREATE TABLE script_dlq.t (id INT PRIMARY KEY, text_col VARCHAR(16), n INT);");
        const string script = """
            ChangeEvent Transform(ChangeEvent e)
            {
                e.After!["text_col"] = "MUTATED";   // half-way changes the dead letter must not show
                e.Extra["half"] = true;
                e.After.Remove("n");
                try { int.Parse((string?)e.After["text_col"] ?? ""); }
                catch (FormatException fe) { throw new InvalidOperationException("cannot parse", fe); }
                return e;
            }
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "dlq", 5313, "script_dlq", script, null, "dead_letter");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES (1, 'hello', 5);", "script_dlq");
        await p.WaitForAsync(() => p.Status.EventsDeadLettered == 1 && File.Exists(p.DeadLetterPath) && File.ReadAllText(p.DeadLetterPath).EndsWith('\n'), "1 dead letter");
        var letter = JsonNode.Parse(Assert.Single(File.ReadAllLines(p.DeadLetterPath)))!;
        Assert.Equal("{\"id\":1,\"text_col\":\"hello\",\"n\":5}", letter["event"]!["after"]!.ToJsonString()); // as read, before the script ran
        Assert.Null(letter["event"]!["half"]);
        Assert.Equal("transform", (string?)letter["stage"]);
        var ex = letter["exception"]!;
        Assert.Equal("PluginHost.Scripting.ScriptException", (string?)ex["type"]);
        Assert.Equal("InvalidOperationException: cannot parse (at transforms/t.csx:line 7)", (string?)ex["message"]);
        Assert.Equal("transforms/t.csx", (string?)ex["script"]);
        Assert.Equal(7, (int)ex["line"]!);
        Assert.Contains("CompiledTransform.Apply", (string?)ex["stack"]);
        var inner = ex["inner"]!;
        Assert.Equal("System.InvalidOperationException", (string?)inner["type"]);
        Assert.Equal("cannot parse", (string?)inner["message"]);
        Assert.Contains("transforms/t.csx:line 7", (string?)inner["stack"]);
        var innermost = inner["inner"]!;
        Assert.Equal("System.FormatException", (string?)innermost["type"]);
        Assert.Contains("ThrowFormatException", (string?)innermost["stack"]);
        Assert.Null(innermost["inner"]);
        Assert.Equal(0, p.OutputCount());
    }

    [Fact]
    public async Task A_looping_script_hits_the_time_limit_and_on_error_skip_goes_on()
    {
        db.Sql("DROP DATABASE IF EXISTS script_loop; CREATE DATABASE script_loop; CREATE TABLE script_loop.t (id INT PRIMARY KEY);");
        const string script = """
            ChangeEvent Transform(ChangeEvent e)
            {
                var spins = 0L;
                while (e.After!.Get<long>("id") == 2) spins++;   // stuck forever on row 2
                return e;
            }
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "loop", 5306, "script_loop", script, null, "skip", "    transform_timeout: 300ms");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);", "script_loop");
        await p.WaitForAsync(() => p.OutputCount() >= 2 && p.Status.EventsSkipped == 1, "2 events and 1 skipped");
        Assert.Equal([1, 3], p.Output().Select(e => (int)e["after"]!["id"]!).ToArray());
        Assert.Contains(p.Logs.Lines, l => l.Contains("time limit of 0.3 s: stopped in the loop at transforms/t.csx:line 4"));
        Assert.Equal(PipelineState.Running, p.Status.State);
    }

    [Fact]
    public async Task A_script_that_does_not_compile_fails_the_pipeline_until_fixed_and_a_broken_edit_keeps_the_old_version()
    {
        db.Sql("DROP DATABASE IF EXISTS script_fix; CREATE DATABASE script_fix; CREATE TABLE script_fix.t (id INT PRIMARY KEY);");
        await using var p = await ScriptPipeline.StartAsync(db, "fix", 5307, "script_fix", "ChangeEvent Transform(ChangeEvent e)\n{\n    return e.Nope;\n}\n", null);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Failed, "the pipeline to fail");
        Assert.Equal("transforms/t.csx(3,14): error CS1061: 'ChangeEvent' does not contain a definition for 'Nope' and no accessible extension method 'Nope' accepting a first argument of type 'ChangeEvent' could be found (are you missing a using directive or an assembly reference?)",
            p.Status.TransformDiagnostics);
        Assert.Contains("does not compile", p.Status.LastError);
        Assert.Contains(p.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("transforms/t.csx(3,14): error CS1061"));

        await File.WriteAllTextAsync(p.ScriptPath, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"v\"] = 1; return e; }");
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the fixed pipeline to run");
        Assert.Null(p.Status.TransformDiagnostics);
        var v1 = p.Status.TransformVersion;

        await File.WriteAllTextAsync(p.ScriptPath, "ChangeEvent Transform(ChangeEvent e)\n{\n    e.Extra[\"v\"] = 2\n    return e;\n}\n");
        await p.WaitForAsync(() => p.Status.TransformDiagnostics != null, "the broken edit's diagnostics");
        Assert.Equal("transforms/t.csx(3,21): error CS1002: ; expected", p.Status.TransformDiagnostics);
        db.Sql("INSERT INTO t VALUES (1);", "script_fix");
        await p.WaitForAsync(() => p.OutputCount() >= 1, "1 event");
        Assert.Equal(1, (int)p.Output()[0]["v"]!);
        Assert.Equal(v1, p.Status.TransformVersion);
        Assert.Equal(PipelineState.Running, p.Status.State);
    }

    [Fact]
    public async Task Hot_reload_in_the_middle_of_50000_events_switches_at_a_transaction_boundary_and_transforms_each_event_exactly_once()
    {
        const int transactions = 500, rowsPerTransaction = 100, total = transactions * rowsPerTransaction;
        db.Sql("DROP DATABASE IF EXISTS script_reload; CREATE DATABASE script_reload; CREATE TABLE script_reload.t (id INT PRIMARY KEY, pad VARCHAR(16));");
        static string Version(int v) => $$"""
            long seen = 0;
            ChangeEvent Transform(ChangeEvent e)
            {
                e.Extra["v"] = {{v}};
                e.Extra["seen"] = ++seen;
                return e;
            }
            """;
        await using var p = await ScriptPipeline.StartAsync(db, "reload", 5308, "script_reload", Version(1), null);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        var v1 = p.Status.TransformVersion;

        var writer = Task.Run(async () =>
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            for (var tx = 0; tx < transactions; tx++)
            {
                var from = tx * rowsPerTransaction + 1;
                await c.ExecuteAsync("INSERT INTO script_reload.t VALUES " + string.Join(",", Enumerable.Range(from, rowsPerTransaction).Select(i => $"({i},'x')")));
                await Task.Delay(tx % 2 == 0 ? 8 : 0); // a steady stream over a few seconds
            }
        });
        await p.WaitForAsync(() => p.OutputCount() >= total / 4, "a quarter of the stream");
        await File.WriteAllTextAsync(p.ScriptPath, Version(2)); // the edit, while events flow
        await writer;
        await p.WaitForAsync(() => p.OutputCount() >= total, $"{total} events", 60);
        await Task.Delay(300);

        var events = p.Output();
        Assert.Equal(total, events.Count); // none lost, none twice
        var ids = events.Select(e => (int)e["after"]!["id"]!).ToArray();
        Assert.Equal(Enumerable.Range(1, total), ids); // in order
        var versions = events.Select(e => (int)e["v"]!).ToArray();
        var switchAt = Array.IndexOf(versions, 2);
        Assert.True(switchAt > 0, "the new version never went live");
        Assert.True(switchAt < total - rowsPerTransaction, $"the switch came only at event {switchAt}: not in the middle of the stream");
        Assert.All(versions[..switchAt], v => Assert.Equal(1, v)); // every event by exactly one version: old ones first, then new
        Assert.All(versions[switchAt..], v => Assert.Equal(2, v));
        Assert.Equal(0, switchAt % rowsPerTransaction); // at a transaction boundary…
        Assert.NotEqual((string?)events[switchAt - 1]["gtid"], (string?)events[switchAt]["gtid"]);
        foreach (var tx in events.GroupBy(e => (string?)e["gtid"])) // …so no transaction saw both versions
            Assert.Single(tx.Select(e => (int)e["v"]!).Distinct());
        // each version kept its own state, counting from 1 without a gap or a repeat: version 1 over the events before
        // the switch, version 2 over every event after it
        Assert.Equal(Enumerable.Range(1, switchAt).Select(i => (long)i), events[..switchAt].Select(e => (long)e["seen"]!));
        Assert.Equal(Enumerable.Range(1, total - switchAt).Select(i => (long)i), events[switchAt..].Select(e => (long)e["seen"]!));
        Assert.NotEqual(v1, p.Status.TransformVersion);
        Assert.Contains(p.Logs.Lines, l => l.Contains($"transform version {p.Status.TransformVersion} live from the next transaction"));
    }

    [Fact]
    public async Task Saves_through_the_watcher_in_a_running_pipeline_go_live_in_turn_and_every_replaced_version_is_collected()
    {
        const int Saves = 20;
        db.Sql("DROP DATABASE IF EXISTS script_saves; CREATE DATABASE script_saves; CREATE TABLE script_saves.t (id INT PRIMARY KEY);");
        static string Version(int v) => $"var state = new byte[64 * 1024];\nChangeEvent Transform(ChangeEvent e) {{ e.Extra[\"v\"] = {v}; return e; }}";
        await using var p = await ScriptPipeline.StartAsync(db, "saves", 5314, "script_saves", Version(0), null);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        var replaced = new List<(string Version, WeakReference Context)>();
        for (var v = 1; v <= Saves; v++)
        {
            var before = p.Status.TransformVersion!;
            replaced.Add((before, ContextOf(before)));
            await File.WriteAllTextAsync(p.ScriptPath, Version(v)); // a save, seen by the real watcher
            await p.WaitForAsync(() => p.Status.TransformVersion != before, $"version {v} to go live");
            db.Sql($"INSERT INTO t VALUES ({v});", "script_saves");
            await p.WaitForAsync(() => p.OutputCount() >= v, $"event {v}");
        }
        var events = p.Output();
        Assert.Equal(Enumerable.Range(1, Saves), events.Select(e => (int)e["v"]!)); // each row by the version saved before it
        Assert.Equal(Enumerable.Range(1, Saves), events.Select(e => (int)e["after"]!["id"]!));

        // The pipeline unloaded every version it switched past: their contexts are collected (the live one stays).
        var deadline = DateTime.UtcNow.AddSeconds(30); // hang guard
        while (replaced.Any(r => r.Context.IsAlive) && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }
        Assert.Empty(replaced.Where(r => r.Context.IsAlive).Select(r => r.Version));
        Assert.True(ContextOf(p.Status.TransformVersion!).IsAlive);
    }

    /// <summary>The load context of a transform version (named after it), held weakly.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(string version) =>
        new(System.Runtime.Loader.AssemblyLoadContext.All.Single(c => c.Name == "script " + version));
}
