using PluginHost.Scripting;
using PluginHost.Sdk;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>JavaScript transforms in-process: prensio's contract (rules, ACTION_CONT/ACTION_DROP, cdc_event) and the native contract.</summary>
public sealed class JavaScriptContractTests
{
    [Fact]
    public void The_seed_readme_transform_runs_unchanged_arrow_function_and_all()
    {
        using var t = Rules(new TestHelperSource(), null, Rule("readme", SeedReadme));
        var e = Update(42, "hello world");
        var output = Run(t, e);
        var result = Assert.Single(output);
        Assert.Same(e, result);
        Assert.Equal(1L, result.Extra["ext"]);
        Assert.Equal("h**********!", result.After!["text_col"]); // masked by the helper plugin's tObfString
        Assert.Equal(1L, result.After["changed"]);
        Assert.Equal(42L, result.After["id"]);                 // unchanged values keep their .NET type
        Assert.Equal("hello world", result.Before!["text_col"]); // the README masks after only
        Assert.Equal("shop.users", result.Destination);         // kafka.topic default
        Assert.Equal("42", result.Key);                          // primary key of the before row (prensio)
        Assert.Equal(ChangeOperation.Update, result.Op);
    }

    [Fact]
    public void Getters_a_rule_defines_on_a_row_or_on_cdc_event_are_read_back_as_their_values()
    {
        using var t = Rules(null, null, Rule("getters", """
            function transform(cdc_event) {
              const row = cdc_event.after[0];
              Object.defineProperty(row, 'text_col', { get: () => 'from a getter', enumerable: true, configurable: true });
              Object.defineProperty(row, 'added', { get: () => row.id * 2, enumerable: true });
              Object.defineProperty(cdc_event, 'extra', { get: () => ({ n: 1 }), enumerable: true });
            }
            """));
        var result = Assert.Single(Run(t, Update(21, "hello")));
        Assert.Equal("from a getter", result.After!["text_col"]);
        Assert.Equal(42L, result.After["added"]);
        Assert.Equal("{\"n\":1}", ((System.Text.Json.Nodes.JsonNode)result.Extra["extra"]!).ToJsonString());
        Assert.Equal("hello", result.Before!["text_col"]);
    }

    [Fact]
    public void Rules_run_in_order_on_matching_events_and_the_first_drop_stops_the_chain()
    {
        using var t = Rules(null, null,
            Rule("mask", "function transform(cdc_event) { cdc_event.before[0].text_col = 'x'; cdc_event.after[0].text_col = 'x'; return ACTION_CONT; }", schema: "^shop$"),
            Rule("drop_audit", "function transform(cdc_event) { return ACTION_DROP; }", table: "^audit$"),
            Rule("after_drop", "function transform(cdc_event) { throw new Error('ran after a drop'); }", table: "^audit$"),
            Rule("route", "function transform(cdc_event) { cdc_event.kafka.topic = 'users-' + cdc_event.action; cdc_event.kafka.key = 'k' + cdc_event.after[0].id; }", table: "^users$"),
            Rule("other_schema", "function transform(cdc_event) { throw new Error('matched another schema'); }", schema: "^crm$"));
        var users = Run(t, Update(7, "secret"));
        Assert.Equal("x", Assert.Single(users).After!["text_col"]);
        Assert.Equal("x", users[0].Before!["text_col"]);
        Assert.Equal("users-update", users[0].Destination);
        Assert.Equal("k7", users[0].Key);

        var audit = Update(8, "a");
        audit.Table = "audit";
        Assert.Empty(Run(t, audit)); // dropped by the second rule; the third never ran

        // Tables taking turns: each event meets its own table's rules (which rules match is kept per table in a row).
        var again = Assert.Single(Run(t, Update(9, "s")));
        Assert.Equal(("x", "users-update", "k9"), (again.After!["text_col"], again.Destination, again.Key));
        audit = Update(10, "a");
        audit.Table = "audit";
        Assert.Empty(Run(t, audit));
        var crm = Update(11, "c");
        crm.Database = "crm";
        crm.Table = "orders";
        Assert.StartsWith("Error: matched another schema (at other_schema (inline)", Assert.Throws<ScriptException>(() => Run(t, crm)).Message);

        // A rule that renames the table changes which rules follow it: they match the names as the rules before left them.
        using var renaming = Rules(null, null,
            Rule("to_audit", "function transform(cdc_event) { if (cdc_event.after[0].id % 2 == 0) cdc_event.table = 'audit'; }", table: "^users$"),
            Rule("drop_audit", "function transform(cdc_event) { return ACTION_DROP; }", table: "^audit$"));
        Assert.Empty(Run(renaming, Update(12, "r")));
        Assert.Equal("users", Assert.Single(Run(renaming, Update(13, "r"))).Table);
        Assert.Empty(Run(renaming, Update(14, "r")));
    }

    [Fact]
    public void A_rule_changes_schema_table_action_and_rows_in_place_and_adds_fields()
    {
        using var t = Rules(null, null, Rule("r", """
            function transform(cdc_event) {
              cdc_event.schema = 'archive';
              cdc_event.table = cdc_event.table + '_v2';
              cdc_event.after[0].extra = { nested: [1, 2] };
              delete cdc_event.after[0].n;
              cdc_event.meta.pipeline = 'ignored';
              cdc_event.origin = cdc_event.meta.pipeline + '@' + cdc_event.meta.timestamp;
              return ACTION_CONT;
            }
            """));
        var e = Run(t, Update(1, "a"))[0];
        Assert.Equal(("archive", "users_v2"), (e.Database, e.Table));
        Assert.False(e.After!.ContainsKey("n"));
        Assert.Equal("{\"nested\":[1,2]}", ((System.Text.Json.Nodes.JsonNode)e.After["extra"]!).ToJsonString());
        Assert.Equal("ignored@1700000000000000", e.Extra["origin"]);  // meta.timestamp is in µs
        Assert.Equal("shop.users", e.Destination);                    // the topic was computed before the rule renamed the table
    }

    [Fact]
    public void A_rule_returning_anything_but_a_verdict_fails_the_event_with_its_position()
    {
        using var t = Rules(null, null, Rule("bad", "function transform(cdc_event) {\n  return 'yes';\n}"));
        var e = Assert.Throws<InvalidOperationException>(() => Run(t, Update(1, "a")));
        Assert.Contains("rule bad: transform returned a string: expected ACTION_CONT (0) or ACTION_DROP (1)", e.Message);

        using var throwing = Rules(null, null, Rule("thrower", "function transform(cdc_event) {\n  null.x;\n}"));
        var thrown = Assert.Throws<ScriptException>(() => Run(throwing, Update(1, "a")));
        Assert.Equal("TypeError: Cannot read properties of null (reading 'x') (at thrower (inline):2:8)", thrown.Message);
        Assert.Equal(2, thrown.Line);
    }

    [Fact]
    public void One_row_per_cdc_event()
    {
        using var t = Rules(null, null, Rule("two", "function transform(c) { c.after.push({ id: 2 }); return ACTION_CONT; }"));
        var e = Assert.Throws<InvalidOperationException>(() => Run(t, Update(1, "a")));
        Assert.Contains("cdc_event.after has 2 rows: a cdc_event carries one row", e.Message);
    }

    [Fact]
    public void Native_contract_change_drop_in_place_and_fan_out()
    {
        using var change = Native("function transform(event) { event.after.text_col = event.after.text_col.toUpperCase(); event.seen = true; event.destination = 'topic-' + event.table; return event; }");
        var changed = Assert.Single(Run(change, Update(1, "abc")));
        Assert.Equal("ABC!", changed.After!["text_col"]);
        Assert.Equal(true, changed.Extra["seen"]);
        Assert.Equal("topic-users", changed.Destination);

        using var drop = Native("function transform(event) { return event.after.id % 2 == 0 ? null : event; }");
        Assert.Empty(Run(drop, Update(2, "a")));
        Assert.Single(Run(drop, Update(3, "a")));

        using var inPlace = Native("function transform(event) { event.after.n = 99; }");
        Assert.Equal(99L, Run(inPlace, Update(1, "a"))[0].After!["n"]);

        using var fan = Native("const transform = (event) => [event, { ...event, table: 'audit', key: 'a' + event.after.id }, null];");
        var e = Update(5, "x");
        var all = Run(fan, e);
        Assert.Equal(2, all.Count);
        Assert.Same(e, all[0]);
        Assert.Equal(("users", "audit"), (all[0].Table, all[1].Table));
        Assert.Equal("a5", all[1].Key);
        Assert.NotSame(all[0].After, all[1].After); // the shared row object gave each event its own row
        Assert.Equal("0-1-7", all[1].Gtid);

        using var none = Native("function transform(event) { return []; }");
        Assert.Empty(Run(none, Update(1, "a")));
    }

    [Fact]
    public void Values_keep_their_type_and_precision_unless_the_script_changes_them()
    {
        using var t = Native("function transform(e) { e.after.changed = e.after.big * 2; e.after.half = 0.5; e.after.when2 = e.after.when; }");
        var e = Update(1, "a");
        e.After!["big"] = 9007199254740993L; // 2^53 + 1: not exact as a JavaScript number
        e.After["price"] = 12.50m;
        e.After["when"] = new DateTime(2026, 11, 21, 10, 0, 0);
        var r = Run(t, e)[0].After!;
        Assert.Equal(9007199254740993L, r["big"]);
        Assert.Equal(12.50m, r["price"]);
        Assert.Equal(new DateTime(2026, 11, 21, 10, 0, 0), r["when"]);
        Assert.Equal("2026-11-21 10:00:00", r["when2"]);
        Assert.Equal(0.5, r["half"]);
        Assert.IsType<double>(r["changed"]); // beyond 2^53: a double
    }

    [Fact]
    public void Helper_functions_are_global_with_the_csharp_null_rules()
    {
        using var helpers = new TestHelperSourceScope("""
            namespace H;
            [PluginHost.Sdk.HelperFunctions]
            public static class F
            {
                public static string? tUpper(string? s) => s?.ToUpperInvariant();
                public static long tAdd(long a, long b = 10) => a + b;
                public static string tLen(string s) => s.Length.ToString();
            }
            """);
        using var t = Native("function transform(e) { e.a = tUpper(e.after.text_col); e.b = tUpper(null); e.c = tAdd(2); e.d = tAdd(2, 3); e.f = tUpper(undefined); }", helpers.Source);
        var r = Run(t, Update(1, "abc"))[0];
        Assert.Equal("ABC!", r.Extra["a"]);
        Assert.Null(r.Extra["b"]);
        Assert.Equal(12L, r.Extra["c"]);
        Assert.Equal(5L, r.Extra["d"]);
        Assert.Null(r.Extra["f"]);
        Assert.Single(t.UsedHelpers);

        using var npe = Native("function transform(e) {\n  e.x = tLen(null);\n}", helpers.Source);
        Assert.IsType<NullReferenceException>(Assert.Throws<ScriptException>(() => Run(npe, Update(1, "a"))).InnerException); // as tLen(null) from C#

        using var wrong = Native("function transform(e) { tAdd('x'); }", helpers.Source);
        Assert.Contains("no overload of tAdd takes (a string)", Assert.Throws<ScriptException>(() => Run(wrong, Update(1, "a"))).Message);
    }

    [Fact]
    public void A_syntax_error_a_missing_transform_and_a_failing_top_level_are_diagnostics_with_file_line_column()
    {
        var syntax = Try("function transform(e) {\n  return e.;\n}");
        Assert.Null(syntax.Loaded);
        var d = Assert.Single(syntax.Diagnostics);
        Assert.Equal("transforms/t.js(2,12): error JS1001: Unexpected token ';' (transforms/t.js:2:12)", d.ToString());

        var missing = Try("function transfrom(e) { return e; }");
        Assert.Contains("JS0001: define 'function transform(event)'", Assert.Single(missing.Diagnostics).ToString());

        var top = Try("var x = 1;\nundefinedThing();\nfunction transform(e) {}");
        Assert.Equal("transforms/t.js(2,1): error JS0003: the script's top-level code failed: ReferenceError: undefinedThing is not defined (at transforms/t.js:2:1)",
            Assert.Single(top.Diagnostics).ToString());
    }

    [Fact]
    public void State_lives_as_long_as_the_version()
    {
        using var t = Native("let seen = 0;\nfunction transform(e) { e.seen = ++seen; }");
        Assert.Equal(1L, Run(t, Update(1, "a"))[0].Extra["seen"]);
        Assert.Equal(2L, Run(t, Update(2, "a"))[0].Extra["seen"]);
    }
}

/// <summary>A <see cref="TestHelperSource"/> with custom source, disposed with the test.</summary>
internal sealed class TestHelperSourceScope(string source) : IDisposable
{
    public TestHelperSource Source { get; } = new(source, "H");

    public void Dispose() => Source.Clear();
}
