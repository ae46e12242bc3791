using PluginHost.Scripting.JavaScript;
using PluginHost.Sdk;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>
/// The crossing builds an event's objects straight into the shapes (hidden classes) of the first ones and reads a shaped
/// object back by its slots (<see cref="JsShapes"/>): what a script sees and what is read back must be what the
/// entry-by-entry build and the property-by-property read gave, on the first event and on every later one.
/// </summary>
public sealed class JavaScriptShapeTests
{
    private static readonly RowLayout Users = new(["id", "text_col", "price", "at"]);

    private static ChangeEvent Insert(long id, string text) => new()
    {
        Op = ChangeOperation.Insert,
        Database = "shop",
        Table = "users",
        After = new Row(Users, [id, text, 1.50m, new DateTime(2026, 1, 2, 3, 4, 5)]),
        Schema = new TableInfo("shop", "users", [new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true), new ColumnInfo("text_col", ColumnKind.Text),
            new ColumnInfo("price", ColumnKind.Decimal), new ColumnInfo("at", ColumnKind.DateTime)]),
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
    };

    [Fact]
    public void Jints_internals_the_crossing_relies_on_are_there()
    {
        // A Jint upgrade that moves them leaves the crossing on the public API (correct, slower): this says so.
        Assert.True(JsShapes.Available);
        Assert.True(JsCall.Available);
    }

    [Fact]
    public void Objects_built_straight_into_a_shape_look_to_a_script_exactly_like_the_first_ones()
    {
        using var t = Rules(null, null, Rule("look", """
            function transform(cdc_event) {
              const row = cdc_event.after[0];
              const d = Object.getOwnPropertyDescriptor(row, 'text_col');
              cdc_event.seen = [Object.keys(cdc_event).join(), Object.keys(row).join(), JSON.stringify(cdc_event.kafka), JSON.stringify(cdc_event.meta),
                JSON.stringify(cdc_event.before), d.writable && d.enumerable && d.configurable, Object.getPrototypeOf(row) === Object.prototype,
                row.hasOwnProperty('price'), 'toString' in row, JSON.stringify(row)].join('|');
              row.added = 1;
              cdc_event.meta.more = 2;
              delete cdc_event.kafka.key;
              cdc_event.seen2 = Object.keys(row).join() + '|' + JSON.stringify(cdc_event.meta) + '|' + JSON.stringify(cdc_event.kafka);
            }
            """));
        var results = Enumerable.Range(1, 4).Select(i => Assert.Single(Run(t, Insert(7, "same")))).ToList();
        const string expected = "schema,table,action,before,after,meta,kafka|id,text_col,price,at|{\"topic\":\"shop.users\",\"key\":\"7\"}|" +
            "{\"timestamp\":1700000000000000,\"pipeline\":\"test\"}|[]|true|true|true|true|{\"id\":7,\"text_col\":\"same\",\"price\":\"1.50\",\"at\":\"2026-01-02 03:04:05\"}";
        Assert.All(results, r => Assert.Equal(expected, r.Extra["seen"]));
        Assert.All(results, r => Assert.Equal("id,text_col,price,at,added|{\"timestamp\":1700000000000000,\"pipeline\":\"test\",\"more\":2}|{\"topic\":\"shop.users\"}", r.Extra["seen2"]));
        Assert.All(results, r => Assert.Equal("7", r.Key)); // kafka.key deleted: the default key
    }

    [Theory]
    [InlineData("", "id=7, text_col=t, price=1.50, at=01/02/2026 03:04:05")]
    [InlineData("row.text_col = 'changed';", "id=7, text_col=changed, price=1.50, at=01/02/2026 03:04:05")]
    [InlineData("row.text_col = row.text_col;", "id=7, text_col=t, price=1.50, at=01/02/2026 03:04:05")]
    [InlineData("row.z = 1; row.text_col = 'x';", "id=7, text_col=x, price=1.50, at=01/02/2026 03:04:05, z=1")]
    [InlineData("delete row.price; row.z = null;", "id=7, text_col=t, at=01/02/2026 03:04:05, z=NULL")]
    [InlineData("row['9'] = 'nine'; row.id = 8;", "id=8, text_col=t, price=1.50, at=01/02/2026 03:04:05, 9=nine")]
    [InlineData("Object.defineProperty(row, 'text_col', { get: () => 'got', enumerable: true });", "id=7, text_col=got, price=1.50, at=01/02/2026 03:04:05")]
    [InlineData("Object.freeze(row);", "id=7, text_col=t, price=1.50, at=01/02/2026 03:04:05")]
    public void A_row_is_read_back_alike_whether_untouched_changed_grown_or_no_longer_shaped(string change, string expected)
    {
        using var t = Rules(null, null, Rule("r", $"function transform(cdc_event) {{ const row = cdc_event.after[0]; {change} }}"));
        for (var i = 0; i < 3; i++)
        {
            var after = Assert.Single(Run(t, Insert(7, "t"))).After!;
            Assert.Equal(expected, Text(after));
            if (after.ContainsKey("price")) Assert.IsType<decimal>(after["price"]); // untouched: its .NET value as it was
            Assert.IsType<DateTime>(after["at"]);
        }
    }

    [Theory]
    [InlineData("cdc_event.kafka = { topic: 't1', key: 'k1' };", "t1", "k1")]
    [InlineData("cdc_event.kafka = { key: 'k2', topic: 't2' };", "t2", "k2")]
    [InlineData("cdc_event.kafka.key = 'k3';", "shop.users", "k3")]
    [InlineData("cdc_event.kafka = { topic: 't4' };", "t4", "7")]
    [InlineData("Object.defineProperty(cdc_event.kafka, 'topic', { get: () => 't5', enumerable: true });", "t5", "7")]
    [InlineData("cdc_event.kafka = null;", "shop.users", "7")]
    public void Kafka_topic_and_key_are_read_by_name_whatever_object_the_rule_left(string change, string topic, string key)
    {
        using var t = Rules(null, null, Rule("k", $"function transform(cdc_event) {{ {change} }}"));
        for (var i = 0; i < 3; i++)
        {
            var result = Assert.Single(Run(t, Insert(7, "t")));
            Assert.Equal(topic, result.Destination);
            Assert.Equal(key, result.Key);
        }
    }

    [Fact]
    public void Cdc_event_fields_are_read_by_name_when_a_rule_reorders_them_or_adds_a_getter()
    {
        using var t = Rules(null, null, Rule("order", """
            function transform(cdc_event) {
              const after = cdc_event.after;
              delete cdc_event.after;
              cdc_event.z = 1;
              cdc_event.after = after;
              after[0].text_col = 'moved';
              if (after[0].id === 2) Object.defineProperty(cdc_event, 'table', { get: () => 'from_getter', enumerable: true });
            }
            """));
        var first = Assert.Single(Run(t, Insert(1, "t")));
        var second = Assert.Single(Run(t, Insert(2, "t")));
        Assert.Equal(("users", "moved", 1L), (first.Table, first.After!["text_col"], first.Extra["z"]));
        Assert.Equal(("from_getter", "moved", 1L), (second.Table, second.After!["text_col"], second.Extra["z"]));
    }

    [Fact]
    public void An_event_transformed_again_after_its_row_grew_in_place_is_read_with_every_column()
    {
        // A row with a layout of its own grows in place: the same layout object, one more column, on the next call.
        using var t = Rules(null, null, Rule("grow", """
            function transform(cdc_event) {
              const row = cdc_event.after[0];
              row['c' + Object.keys(row).length] = Object.keys(row).join();
            }
            """));
        var e = Update(1, "t");
        e.Before = null;
        Run(t, e);
        Run(t, e);
        Run(t, e);
        Assert.Equal("id=1, text_col=t!, n=2, c3=id,text_col,n, c4=id,text_col,n,c3, c5=id,text_col,n,c3,c4", Text(e.After!));
    }

    private static string Text(Row row) =>
        string.Join(", ", row.Select(kv => $"{kv.Key}={(kv.Value is null ? "NULL" : Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture))}"));
}
