using PluginHost.Sdk;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>
/// A JavaScript version keeps per-event work between events (row entries, table names and default topics as JavaScript
/// strings): nothing one event left may show in the next.
/// </summary>
public sealed class JavaScriptReuseTests
{
    private static ChangeEvent Insert(string database, string table, Row after, string? pk = "id") => new()
    {
        Op = ChangeOperation.Insert,
        Database = database,
        Table = table,
        After = after,
        Schema = new TableInfo(database, table, after.Keys.Select(k => new ColumnInfo(k, after[k] is long ? ColumnKind.Integer : ColumnKind.Text, IsPrimaryKey: k == pk)).ToArray()),
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
    };

    [Fact]
    public void Prensio_rules_see_each_events_own_table_topic_and_key_when_tables_alternate_and_a_rule_renames_one()
    {
        using var t = Rules(null, null, Rule("r", """
            function transform(cdc_event) {
              cdc_event.seen = cdc_event.schema + "/" + cdc_event.table + "/" + cdc_event.kafka.topic + "/" + cdc_event.kafka.key;
              if (cdc_event.after[0].id === 2) cdc_event.schema = "renamed";
              return ACTION_CONT;
            }
            """));
        var events = new[]
        {
            Insert("shop", "users", new Row { ["id"] = 1L, ["name"] = "a" }),
            Insert("shop", "users", new Row { ["id"] = 2L, ["name"] = "b" }),
            Insert("shop", "orders", new Row { ["id"] = 3L, ["total"] = "9.50", ["note"] = "x" }),
            Insert("shop", "users", new Row { ["id"] = 4L, ["name"] = "d" }),
        };
        var results = events.Select(e => Assert.Single(Run(t, e))).ToList();
        Assert.Equal(["shop/users/shop.users/1", "shop/users/shop.users/2", "shop/orders/shop.orders/3", "shop/users/shop.users/4"],
            results.Select(r => (string)r.Extra["seen"]!).ToArray());
        Assert.Equal(["shop", "renamed", "shop", "shop"], results.Select(r => r.Database).ToArray());
        Assert.Equal(["shop.users", "shop.users", "shop.orders", "shop.users"], results.Select(r => r.Destination!).ToArray());
        Assert.Equal(["1", "2", "3", "4"], results.Select(r => r.Key!).ToArray());
        Assert.Equal("id=3, total=9.50, note=x", results[2].After!.ToString());
    }

    [Fact]
    public void Native_rows_of_a_wider_earlier_event_never_leak_into_a_narrower_later_one()
    {
        using var t = Native("""
            function transform(e) {
              if (e.after.id === 1) { delete e.after.n; e.after.added = true; }
              if (e.after.id === 3) return [e, e];
              return e;
            }
            """);
        var wide = Insert("shop", "users", new Row { ["id"] = 1L, ["text_col"] = "t", ["n"] = 5L, ["x"] = "y" });
        var narrow = Insert("shop", "tags", new Row { ["id"] = 2L, ["v"] = "w" });
        var twice = Insert("shop", "tags", new Row { ["id"] = 3L, ["v"] = "z" });
        Assert.Equal("id=1, text_col=t, x=y, added=True", Assert.Single(Run(t, wide)).After!.ToString());
        Assert.Equal("id=2, v=w", Assert.Single(Run(t, narrow)).After!.ToString());
        var fanned = Run(t, twice);
        Assert.Equal(2, fanned.Count);
        Assert.NotSame(fanned[0].After, fanned[1].After);
        Assert.All(fanned, f => Assert.Equal("id=3, v=z", f.After!.ToString()));
        Assert.Equal("id=2, v=w", Assert.Single(Run(t, Insert("shop", "tags", new Row { ["id"] = 2L, ["v"] = "w" }))).After!.ToString());
    }

    [Fact]
    public void Columns_and_fields_a_script_adds_keep_the_order_it_added_them_in_event_after_event_index_like_names_included()
    {
        using var rules = Rules(null, null, Rule("add", """
            function transform(cdc_event) {
              const row = cdc_event.after[0];
              row.z = 1; row.a = 2;
              if (row.id % 2 === 0) row['9'] = 3;
              cdc_event.b = 1; cdc_event.a = 2;
              if (row.id % 2 === 0) cdc_event['7'] = 3;
            }
            """));
        using var native = Native("function transform(e) { e.after.z = 1; if (e.after.id % 2 === 0) e.after['9'] = 3; e.b = 1; return e; }");
        for (var id = 1L; id <= 4; id++)
        {
            var even = id % 2 == 0;
            var r = Assert.Single(Run(rules, Update(id, "t")));
            Assert.Equal(even ? $"id={id}, text_col=t!, n=2, z=1, a=2, 9=3" : $"id={id}, text_col=t!, n=2, z=1, a=2", r.After!.ToString());
            Assert.Equal(even ? ["b", "a", "7"] : ["b", "a"], r.Extra.Keys.ToArray());
            var n = Assert.Single(Run(native, Update(id, "t")));
            Assert.Equal(even ? $"id={id}, text_col=t!, n=2, z=1, 9=3" : $"id={id}, text_col=t!, n=2, z=1", n.After!.ToString());
            Assert.Equal(["b"], n.Extra.Keys.ToArray());
        }
    }
}
