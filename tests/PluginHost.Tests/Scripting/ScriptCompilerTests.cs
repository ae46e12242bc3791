using System.Diagnostics;
using PluginHost.Scripting;
using PluginHost.Sdk;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting;

/// <summary>The script contract, diagnostics and the time limit, on compiled scripts without a pipeline.</summary>
public sealed class ScriptCompilerTests
{
    private readonly TestHelperSource _helpers = new();

    [Fact]
    public void Seed_example_compiles_as_written_and_calls_the_helper_unqualified()
    {
        using var t = Load(SeedExample, _helpers);
        var e = Event(1, "hello world");
        var output = Run(t, e);
        var json = Assert.Single(output).ToString();
        Assert.Same(e, output[0]);
        Assert.Contains("\"after\":{\"id\":1,\"text_col\":\"h*********d\",\"changed\":1}", json);
        Assert.EndsWith(",\"ext\":1}", json);

        var shortText = Run(t, Event(2, "abc"))[0];
        Assert.Equal("abc", shortText.After!["text_col"]);
        var delete = Run(t, Event(3, "gone", ChangeOperation.Delete))[0];
        Assert.Null(delete.After);
        Assert.Equal(1, delete.Extra["ext"]);
    }

    [Fact]
    public void Returning_null_drops_the_event()
    {
        using var t = Load("""
            ChangeEvent? Transform(ChangeEvent e) => e.Table == "users" ? null : e;
            """);
        Assert.Empty(Run(t, Event(1, "x")));
        var other = Event(2, "y");
        other.Table = "orders";
        Assert.Single(Run(t, other));
    }

    [Fact]
    public void Fan_out_with_an_iterator_or_a_list()
    {
        using var iterator = Load("""
            IEnumerable<ChangeEvent> Transform(ChangeEvent e)
            {
                yield return e;
                var audit = e.Clone();
                audit.Destination = "audit";
                audit.Extra["copy"] = true;
                yield return audit;
            }
            """);
        Assert.Equal(TransformShape.Many, iterator.Shape);
        var output = Run(iterator, Event(1, "x"));
        Assert.Equal(2, output.Count);
        Assert.Null(output[0].Destination);
        Assert.Equal("audit", output[1].Destination);
        Assert.False(output[0].HasExtra);

        using var list = Load("""
            List<ChangeEvent> Transform(ChangeEvent e) => e.Table == "drop" ? new() : new() { e, e.Clone(), null! };
            """);
        Assert.Equal(2, Run(list, Event(1, "x")).Count); // nulls are skipped
    }

    [Fact]
    public void A_void_transform_mutates_and_keeps_the_event()
    {
        using var t = Load("void Transform(ChangeEvent e) => e.Destination = $\"{e.Database}.{e.Table}\";");
        Assert.Equal("shop.users", Assert.Single(Run(t, Event(1, "x"))).Destination);
    }

    [Fact]
    public void Script_level_fields_and_statics_persist_across_events_of_one_version_and_start_fresh_in_the_next()
    {
        const string script = """
            using System.Collections.Concurrent;
            int seen = 0;
            static long total;
            var names = new HashSet<string>();   // top-level code runs once, when the version loads
            ChangeEvent Transform(ChangeEvent e)
            {
                seen++; total++;
                names.Add((string)e.After!["text_col"]!);
                e.Extra["seen"] = seen;
                e.Extra["total"] = total;
                e.Extra["distinct"] = names.Count;
                return e;
            }
            """;
        using var v1 = Load(script);
        Run(v1, Event(1, "a"));
        Run(v1, Event(2, "a"));
        var third = Run(v1, Event(3, "b"))[0];
        Assert.Equal(3, third.Extra["seen"]);
        Assert.Equal(3L, third.Extra["total"]);
        Assert.Equal(2, third.Extra["distinct"]);

        using var v2 = Load(script);
        var first = Run(v2, Event(4, "c"))[0];
        Assert.Equal(1, first.Extra["seen"]);
        Assert.Equal(1L, first.Extra["total"]);
    }

    [Fact]
    public void Compile_errors_carry_the_file_line_and_column_as_written()
    {
        const string script = """
            // a comment
            ChangeEvent Transform(ChangeEvent e)
            {
                for (var i = 0; i < 3; i++) { e.Extra["i"] = i; }
                while (e.Extra.Count > 10) e.Extra.Clear();
                var x = undefinedThing;
                e.After!["n"] = 1;   int y = "text";
                return e;
            }
            """;
        var build = ScriptCompiler.Compile("transforms/bad.csx", script, []);
        Assert.False(build.Success);
        var errors = build.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()).ToList();
        Assert.Contains("transforms/bad.csx(6,13): error CS0103: The name 'undefinedThing' does not exist in the current context", errors);
        Assert.Contains(errors, s => s.StartsWith("transforms/bad.csx(7,34): error CS0029:", StringComparison.Ordinal));
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void Errors_inside_guarded_loops_and_after_line_directives_map_back_exactly()
    {
        const string script = """
            ChangeEvent Transform(ChangeEvent e)
            {
                while (true) { break; }   foreach (var kv in e.Extra) { nope(); }
                do e.Position++; while (e.Position < 0);
                for (;;) missing();
            #line 100 "other.csx"
                return undefinedAfterLine;
            }
            """;
        var build = ScriptCompiler.Compile("loops.csx", script, []);
        var errors = build.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()).OrderBy(s => s).ToList();
        Assert.Equal(
        [
            "loops.csx(3,61): error CS0103: The name 'nope' does not exist in the current context",
            "loops.csx(5,14): error CS0103: The name 'missing' does not exist in the current context",
            "other.csx(100,12): error CS0103: The name 'undefinedAfterLine' does not exist in the current context",
        ], errors);
    }

    [Fact]
    public void Syntax_errors_are_reported_with_positions()
    {
        var build = ScriptCompiler.Compile("s.csx", "ChangeEvent Transform(ChangeEvent e)\n{\n    return e\n}\n", []);
        Assert.Equal("s.csx(3,13): error CS1002: ; expected", Assert.Single(build.Diagnostics).ToString());
    }

    [Fact]
    public void A_missing_or_wrongly_typed_Transform_is_an_error()
    {
        var none = ScriptCompiler.Compile("n.csx", "int x = 1;", []);
        Assert.Equal("PH0001", Assert.Single(none.Diagnostics).Id);

        var wrong = ScriptCompiler.Compile("w.csx", "// first\nstring Transform(ChangeEvent e) => \"\";", []);
        var d = Assert.Single(wrong.Diagnostics);
        Assert.Equal("PH0002", d.Id);
        Assert.Equal((2, 8), (d.Line, d.Column));
        Assert.Contains("returns string", d.Message);

        var args = ScriptCompiler.Compile("a.csx", "ChangeEvent Transform(ChangeEvent e, int n) => e;", []);
        Assert.Equal("PH0002", Assert.Single(args.Diagnostics).Id);
    }

    [Fact]
    public void Unknown_helper_without_the_plugin_is_a_clear_error()
    {
        var build = ScriptCompiler.Compile("transforms/obfuscate.csx", SeedExample, []);
        Assert.Equal("transforms/obfuscate.csx(7,76): error CS0103: The name 'tObfString' does not exist in the current context",
            Assert.Single(build.Diagnostics, d => d.IsError).ToString());
    }

    [Fact]
    public void Exceptions_surface_with_the_script_line()
    {
        using var t = Load("""
            ChangeEvent Transform(ChangeEvent e)
            {
                var id = (long)e.After!["id"]!;
                if (id % 2 == 0)
                    throw new InvalidOperationException($"even id {id}");
                return e;
            }
            """, path: "transforms/thrower.csx");
        Assert.Single(Run(t, Event(1, "x")));
        var ex = Assert.Throws<ScriptException>(() => Run(t, Event(2, "x")));
        Assert.Equal("InvalidOperationException: even id 2 (at transforms/thrower.csx:line 5)", ex.Message);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
    }

    [Fact]
    public void Top_level_code_that_throws_is_a_load_error()
    {
        var build = ScriptCompiler.Compile("init.csx", "var map = new Dictionary<string,int>();\nmap.Add(\"a\", 1); map.Add(\"a\", 2);\nChangeEvent Transform(ChangeEvent e) => e;", []);
        Assert.True(build.Success);
        var ex = Assert.Throws<ScriptCompilationException>(() => CompiledTransform.Load(build, TimeSpan.FromSeconds(1)));
        var d = Assert.Single(ex.Diagnostics);
        Assert.Equal("PH0003", d.Id);
        Assert.Equal(2, d.Line);
        Assert.Contains("ArgumentException", d.Message);
    }

    [Fact]
    public void A_script_stuck_in_a_loop_is_stopped_by_the_time_limit_and_the_next_event_runs()
    {
        using var t = Load("""
            ChangeEvent Transform(ChangeEvent e)
            {
                var n = 0L;
                if (e.Table == "spin")
                    while (true) { n++; }
                if (e.Table == "goto")
                {
                again:
                    n++;
                    goto again;
                }
                if (e.Table == "nested")
                    foreach (var i in Enumerable.Range(0, 10))
                        for (;;) n += i;
                return e;
            }
            """, path: "transforms/spin.csx", timeout: TimeSpan.FromMilliseconds(200));
        foreach (var (table, line) in new[] { ("spin", 5), ("goto", 8), ("nested", 14) })
        {
            var e = Event(1, "x");
            e.Table = table;
            var clock = Stopwatch.StartNew();
            var ex = Assert.Throws<TransformTimeoutException>(() => Run(t, e));
            Assert.InRange(clock.ElapsedMilliseconds, 180, 30_000); // stopped by the limit (not before it), never hanging; no speed assertion
            Assert.Contains($"time limit of 0.2 s: stopped in the loop at transforms/spin.csx:line {line}", ex.Message);
            Assert.Single(Run(t, Event(2, "ok"))); // the guard is down again
        }
    }

    [Fact]
    public void Recursion_that_never_ends_is_stopped_on_entering_the_function_and_the_next_event_runs()
    {
        using var t = Load("""
            long Fib(long n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);
            ChangeEvent Transform(ChangeEvent e)
            {
                var seen = new List<int>();
                new List<int> { 1, 2 }.ForEach(i => seen.Add(i)); // a lambda returning nothing
                Func<int, int> square = x => x * x;
                System.Linq.Expressions.Expression<Func<int, int>> tree = x => x + 1; // stays an expression tree
                e.Extra["checks"] = seen.Count + square(3) + tree.Compile()(1);
                if (e.Table == "fib") e.Extra["r"] = Fib(200);
                if (e.Table == "local")
                {
                    long Walk(long depth)
                    {
                        return depth > 80 ? 0 : Walk(depth + 1) + Walk(depth + 1);
                    }
                    e.Extra["r"] = Walk(0);
                }
                Func<long, long>? f = null;
                f = depth => depth > 80 ? 0 : f!(depth + 1) + f!(depth + 1);
                if (e.Table == "lambda") e.Extra["r"] = f(0);
                return e;
            }
            """, path: "transforms/recurse.csx", timeout: TimeSpan.FromMilliseconds(200));
        Assert.Equal(13, Run(t, Event(1, "x"))[0].Extra["checks"]); // the rewritten lambdas behave as written
        foreach (var (table, line) in new[] { ("fib", 1), ("local", 12), ("lambda", 19) })
        {
            var e = Event(1, "x");
            e.Table = table;
            var ex = Assert.Throws<TransformTimeoutException>(() => Run(t, e));
            Assert.True(ex.Message.Contains($"time limit of 0.2 s: stopped on entering the function at transforms/recurse.csx:line {line}"), $"{table}: {ex.Message}");
            Assert.Single(Run(t, Event(2, "ok"))); // the guard is down again
        }
    }

    [Fact]
    public void Recursion_through_properties_indexers_and_setters_is_an_ordinary_exception_not_a_stack_overflow()
    {
        // Before accessors were guarded, each of these overflowed the stack, which ends the process.
        using var t = Load("""
            long Forever => Forever + 1;
            class Ladder { public long this[long n] => n <= 0 ? 0 : this[n - 1] + 1; }
            class Echo { long _v; public long V { get { return _v; } set { V = value + 1; _v = value; } } }
            ChangeEvent Transform(ChangeEvent e)
            {
                if (e.Table == "getter") e.Extra["r"] = Forever;
                if (e.Table == "indexer") e.Extra["r"] = new Ladder()[10_000_000];
                if (e.Table == "setter") new Echo().V = 1;
                if (e.Table == "small") e.Extra["r"] = new Ladder()[100];
                return e;
            }
            """, path: "transforms/props.csx", timeout: TimeSpan.FromSeconds(30)); // a loaded machine takes seconds to fill a stack
        foreach (var (table, line) in new[] { ("getter", 1), ("indexer", 2), ("setter", 3) })
        {
            var e = Event(1, "x");
            e.Table = table;
            var ex = Assert.Throws<ScriptException>(() => Run(t, e));
            Assert.IsType<InsufficientExecutionStackException>(ex.InnerException);
            Assert.True(ex.Message.Contains("recursed too deep") && ex.Message.Contains($"transforms/props.csx:line {line}"), $"{table}: {ex.Message}");
        }
        var small = Event(2, "ok");
        small.Table = "small";
        Assert.Equal(100L, Run(t, small)[0].Extra["r"]); // bounded recursion through an indexer still works
    }

    [Fact]
    public void Lambdas_nested_in_expression_trees_stay_part_of_the_tree()
    {
        // A lambda converted to a delegate type inside an expression tree (Enumerable.Any inside a Queryable.Where, a
        // curried tree, a query clause over IQueryable) is part of the tree: a guard block there would be CS0834.
        using var t = Load("""
            record Item(string Tag, int N);
            static readonly string[] Tags = { "a", "b" };
            ChangeEvent Transform(ChangeEvent e)
            {
                var items = new List<Item> { new("a", 1), new("c", 2), new("b", 3) };
                var method = items.AsQueryable().Where(x => Tags.Any(t => t == x.Tag)).Select(x => x.N);
                var query = from x in items.AsQueryable() where Tags.Any(t => t == x.Tag) select items.Count(y => y.N > x.N);
                var objects = from x in items where Tags.Any(t => t == x.Tag) select items.Count(y => y.N < x.N);
                System.Linq.Expressions.Expression<Func<int, Func<int, int>>> curried = a => b => a + b;
                Func<int, int> plain = v => v * 2;
                e.Extra["method"] = string.Join(",", method);
                e.Extra["query"] = string.Join(",", query);
                e.Extra["objects"] = string.Join(",", objects);
                e.Extra["curried"] = curried.Compile()(2)(3);
                e.Extra["plain"] = plain(4);
                return e;
            }
            """, path: "transforms/trees.csx");
        var e = Run(t, Event(1, "x"))[0];
        Assert.Equal("1,3", e.Extra["method"]);
        Assert.Equal("2,0", e.Extra["query"]);
        Assert.Equal("0,2", e.Extra["objects"]);
        Assert.Equal(5, e.Extra["curried"]);
        Assert.Equal(8, e.Extra["plain"]);
    }

    [Fact]
    public void A_tripped_event_is_stopped_only_on_its_own_thread_and_finalizers_are_left_as_written()
    {
        // A thread the script started loops through guarded code while the event thread is stopped by the limit: its
        // checks must not throw (on a timer, thread or finalizer a thrown timeout would end the process).
        using var t = Load("""
            using System.Threading;
            static volatile bool stop;
            static long spins;
            static Exception? caught;
            var worker = new Thread(() =>
            {
                try { while (!stop) { Interlocked.Increment(ref spins); Thread.SpinWait(20); } }
                catch (Exception ex) { caught = ex; }
            }) { IsBackground = true };
            worker.Start();
            ChangeEvent Transform(ChangeEvent e)
            {
                if (e.Table == "spin") while (true) { }
                if (e.Table == "block") Thread.Sleep(700); // the flag stays up while this thread is not checking
                if (e.Table == "stop")
                {
                    stop = true;
                    worker.Join();
                    e.Extra["caught"] = caught?.GetType().Name ?? "none";
                    e.Extra["spun"] = Interlocked.Read(ref spins) > 0;
                }
                return e;
            }
            """, path: "transforms/threads.csx", timeout: TimeSpan.FromMilliseconds(200));
        var spin = Event(1, "x");
        spin.Table = "spin";
        var ex = Assert.Throws<TransformTimeoutException>(() => Run(t, spin));
        Assert.True(ex.Message.Contains("stopped in the loop at transforms/threads.csx:line 13"), ex.Message);
        var block = Event(1, "x");
        block.Table = "block";
        ex = Assert.Throws<TransformTimeoutException>(() => Run(t, block));
        Assert.Contains("time limit of 0.2 s: the event took over", ex.Message);
        var stop = Event(2, "x");
        stop.Table = "stop";
        var e = Run(t, stop)[0];
        Assert.Equal("none", e.Extra["caught"]);
        Assert.Equal(true, e.Extra["spun"]);

        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            "class Holder { ~Holder() { Tidy(); } void Tidy() { } }",
            new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(kind: Microsoft.CodeAnalysis.SourceCodeKind.Script));
        var guarded = LoopGuard.Create(tree).Text.ToString();
        Assert.Contains("~Holder() { Tidy(); }", guarded); // the finalizer is as written
        Assert.Contains("void Tidy() {if (__PluginHostGuard.Tripped || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) __PluginHostGuard.Enter(1); }", guarded);
    }

    [Fact]
    public async Task A_background_build_nobody_takes_is_dropped_and_one_taken_is_used_once()
    {
        var previous = ScriptCompiler.PrecompiledLifetime;
        ScriptCompiler.PrecompiledLifetime = TimeSpan.FromMilliseconds(300);
        try
        {
            const string Text = "ChangeEvent? Transform(ChangeEvent e) => e;";
            var unused = "transforms/never-taken-" + Guid.NewGuid().ToString("N")[..8] + ".csx";
            ScriptCompiler.Precompile(unused, Text, _helpers.Current);
            Assert.True(ScriptCompiler.HasPrecompiled(unused));
            var deadline = DateTime.UtcNow.AddSeconds(30); // hang guard
            while (ScriptCompiler.HasPrecompiled(unused) && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(ScriptCompiler.HasPrecompiled(unused)); // it no longer holds its helpers' assemblies

            var taken = "transforms/taken-" + Guid.NewGuid().ToString("N")[..8] + ".csx";
            ScriptCompiler.Precompile(taken, Text, _helpers.Current);
            var build = await ScriptCompiler.CompileOrTakePrecompiled(taken, Text, _helpers.Current);
            Assert.True(build.Success);
            Assert.False(ScriptCompiler.HasPrecompiled(taken));
        }
        finally
        {
            ScriptCompiler.PrecompiledLifetime = previous;
        }
    }

    [Fact]
    public void Diagnostics_keep_their_columns_in_rewritten_expression_bodies()
    {
        var build = ScriptCompiler.Compile("transforms/cols.csx", "int Twice(int x) => x * 2;\nChangeEvent Transform(ChangeEvent e) => Twice(e) is int ? e : e;\nvoid Log(string s) => undefinedName(s);", []);
        Assert.False(build.Success);
        Assert.Contains(build.Diagnostics, d => d.Line == 2 && d.Column == 47 && d.Id == "CS1503"); // Twice(e): the argument
        Assert.Contains(build.Diagnostics, d => d.Line == 3 && d.Column == 23 && d.Id == "CS0103"); // undefinedName
    }

    [Fact]
    public void Top_level_code_stuck_in_a_loop_or_recursion_fails_the_load_and_its_thread_stops()
    {
        foreach (var (script, line) in new[]
                 {
                     ("var n = 0L;\nwhile (true) n++;\nChangeEvent Transform(ChangeEvent e) => e;", 2),
                     ("ChangeEvent Transform(ChangeEvent e) => e;\nlong Spin(long d) => d > 80 ? 0 : Spin(d + 1) + Spin(d + 1);\nvar r = Spin(0);", 2),
                 })
        {
            var build = ScriptCompiler.Compile("transforms/init-spin.csx", script, []);
            Assert.True(build.Success, string.Join("; ", build.Diagnostics));
            var ex = Assert.Throws<ScriptCompilationException>(() => CompiledTransform.Load(build, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(300)));
            var d = Assert.Single(ex.Diagnostics);
            Assert.Equal("PH0003", d.Id);
            Assert.Equal(line, d.Line);
            // "stopped at line N" is only said once the top-level code's task has ended: no thread is left spinning.
            Assert.Equal($"the script's top-level code did not finish within 0.3 s: stopped at line {line}", d.Message);
        }
    }

    [Fact]
    public void An_event_that_blocks_outside_a_loop_fails_with_a_timeout_when_it_returns()
    {
        using var t = Load("""
            ChangeEvent Transform(ChangeEvent e)
            {
                if (e.Table == "slow") System.Threading.Thread.Sleep(400);
                return e;
            }
            """, timeout: TimeSpan.FromMilliseconds(100));
        var e = Event(1, "x");
        e.Table = "slow";
        var ex = Assert.Throws<TransformTimeoutException>(() => Run(t, e));
        Assert.Contains("time limit of 0.1 s", ex.Message);
        Assert.Single(Run(t, Event(2, "ok")));
    }

    [Fact]
    public async Task An_event_stuck_outside_any_loop_is_reported_stuck_then_recovered()
    {
        using var t = Load("""
            ChangeEvent Transform(ChangeEvent e)
            {
                System.Threading.Thread.Sleep(1400); // a blocking call: no loop check can run
                return e;
            }
            """, timeout: TimeSpan.FromMilliseconds(100));
        string? stuck = null;
        var recovered = false;
        t.Stuck = m => stuck = m;
        t.Recovered = () => recovered = true;
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<TransformTimeoutException>(() => Task.Run(() => Run(t, Event(1, "x"))));
        Assert.InRange(clock.ElapsedMilliseconds, 1300, 30_000);
        Assert.NotNull(stuck); // reported after limit + 1 s, while still running
        Assert.Contains("cannot be aborted", stuck);
        Assert.True(recovered);
        Assert.Contains("time limit of 0.1 s", ex.Message);
    }

    [Fact]
    public void Implicit_usings_cover_common_namespaces()
    {
        using var t = Load("""
            ChangeEvent Transform(ChangeEvent e)
            {
                var sb = new StringBuilder("x");
                var node = new JsonObject { ["a"] = 1 };
                e.Extra["j"] = node;
                e.Extra["s"] = sb.Append(new List<int> { 1, 2 }.Sum()).ToString();
                return e;
            }
            """);
        Assert.EndsWith(",\"j\":{\"a\":1},\"s\":\"x3\"}", Run(t, Event(1, "x"))[0].ToString());
    }
}
