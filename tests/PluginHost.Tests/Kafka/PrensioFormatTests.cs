using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// <c>format: prensio</c>: prensio's <c>cdc_event</c> value and key from an event (one row per message), and the GTID
/// a prensio state record resumes from.
/// </summary>
public sealed class PrensioFormatTests
{
    private static readonly TableInfo Orders = new("shop", "orders",
        [new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("line", ColumnKind.Integer, true), new ColumnInfo("note", ColumnKind.Text)]);

    private static ChangeEvent Event(ChangeOperation op, Row? before, Row? after, TableInfo? schema = null) => new()
    {
        Op = op, Database = "shop", Table = "orders", Schema = schema ?? Orders, Before = before, After = after,
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
    };

    private static Row R(long id, long line, string note) => new() { ["id"] = id, ["line"] = line, ["note"] = note };

    private static (string Key, JsonObject Value) Encode(ChangeEvent e, string topic = "{database}.{table}")
    {
        var encoder = new EventEncoder(KafkaFormat.Prensio, "p1", [], new TopicNames(topic, "p1"));
        var key = encoder.Key(e)!;
        return (Encoding.UTF8.GetString(key), JsonNode.Parse(encoder.ValueSpan(e).ToArray())!.AsObject());
    }

    [Fact]
    public void An_insert_is_prensios_cdc_event_keyed_by_the_primary_key_values_joined_with_dots()
    {
        var (key, value) = Encode(Event(ChangeOperation.Insert, null, R(7, 2, "hi")));
        Assert.Equal("7.2", key);
        Assert.Equal("""{"schema":"shop","table":"orders","action":"insert","before":null,"after":[{"id":7,"line":2,"note":"hi"}],"meta":{"timestamp":1700000000000000,"pipeline":"p1"},"kafka":{"topic":"shop.orders","key":"7.2"}}""",
            value.ToJsonString());
    }

    [Fact]
    public void Updates_and_deletes_take_the_key_from_before_and_extra_fields_follow()
    {
        var update = Event(ChangeOperation.Update, R(7, 2, "old"), R(8, 2, "new"));
        update.Extra["ext"] = 1L;
        var (key, value) = Encode(update);
        Assert.Equal("7.2", key); // prensio: before's values for anything but an insert
        Assert.Equal("old", value["before"]![0]!["note"]!.GetValue<string>());
        Assert.Equal("new", value["after"]![0]!["note"]!.GetValue<string>());
        Assert.Equal(1, value["ext"]!.GetValue<long>());
        var (deleteKey, deleted) = Encode(Event(ChangeOperation.Delete, R(9, 1, "x"), null));
        Assert.Equal("9.1", deleteKey);
        Assert.Equal("delete", deleted["action"]!.GetValue<string>());
        Assert.Null(deleted["after"]);
    }

    [Fact]
    public void Without_a_primary_key_the_key_is_the_topic_and_a_destination_is_the_topic()
    {
        var noKey = new TableInfo("shop", "orders", [new ColumnInfo("note", ColumnKind.Text)]);
        var (key, value) = Encode(Event(ChangeOperation.Insert, null, new Row { ["note"] = "n" }, noKey));
        Assert.Equal("shop.orders", key);
        Assert.Equal("shop.orders", value["kafka"]!["key"]!.GetValue<string>());
        var routed = Event(ChangeOperation.Insert, null, R(1, 1, "a"));
        routed.Destination = "another-topic";
        var (_, v) = Encode(routed);
        Assert.Equal("another-topic", v["kafka"]!["topic"]!.GetValue<string>());
        Assert.Equal("insert", Encode(Event(ChangeOperation.Read, null, R(1, 1, "a"))).Value["action"]!.GetValue<string>());
    }

    [Fact]
    public void The_sinks_value_and_key_are_the_bytes_of_the_sdks_cdc_event_writer_event_after_event()
    {
        // The sink writes prensio's message with its own texts cached from event to event: byte for byte what
        // PrensioCdcEvent.Write gives (with PrensioCdcEvent.Key as key), whatever the names, values and keys.
        var odd = new TableInfo("sh\"öp", "tä<b>le 日本", [new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("na\"me", ColumnKind.Text)]);
        var dated = new TableInfo("shop", "orders", [new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("at", ColumnKind.DateTime),
            new ColumnInfo("amount", ColumnKind.Decimal), new ColumnInfo("note", ColumnKind.Text), new ColumnInfo("gone", ColumnKind.Text)]);
        var noKey = new TableInfo("shop", "log", [new ColumnInfo("note", ColumnKind.Text)]);
        var text = new TableInfo("shop", "tags", [new ColumnInfo("tag", ColumnKind.Text, true)]);
        var events = new List<ChangeEvent>
        {
            Event(ChangeOperation.Insert, null, new Row { ["id"] = 42L, ["at"] = new DateTime(2026, 1, 2, 3, 4, 5), ["amount"] = 12.50m, ["note"] = "say \"hi\" \\ <b>&amp; ü 😀\n", ["gone"] = null }, dated),
            Event(ChangeOperation.Insert, null, new Row { ["id"] = long.MinValue, ["at"] = DateTime.MinValue, ["amount"] = -0.01m, ["note"] = "", ["gone"] = "x" }, dated),
            Event(ChangeOperation.Update, new Row { ["id"] = 7, ["na\"me"] = "a" }, new Row { ["id"] = 8, ["na\"me"] = "b" }, odd),
            Event(ChangeOperation.Delete, R(9, 1, "x"), null),
            Event(ChangeOperation.Read, null, R(-3, 4, "r")),
            Event(ChangeOperation.Insert, null, new Row { ["note"] = "n" }, noKey),
            Event(ChangeOperation.Insert, null, new Row { ["tag"] = "t\"ag ✓" }, text),
            Event(ChangeOperation.Update, new Row { ["id"] = 1L, ["na\"me"] = "a" }, new Row { ["id"] = 1L, ["na\"me"] = "c" }, odd),
        };
        events[2].Database = odd.Database;
        events[2].Table = odd.Table;
        events[7].Database = new string(odd.Database); // equal names in another string
        events[7].Table = new string(odd.Table);
        events[6].Table = "tags";
        var routed = Event(ChangeOperation.Insert, null, R(5, 5, "d"));
        routed.Destination = "to/some where";
        routed.Key = "a \"rule's\" key ✓";
        routed.Extra["ext"] = 1L;
        routed.Extra["schema"] = "ignored";
        events.Add(routed);
        events.Add(events[0]); // the same event again
        events.Add(Event(ChangeOperation.Insert, null, R(6, 1, "after a destination")));

        var topics = new TopicNames("{database}.{table}", "p1");
        var encoder = new EventEncoder(KafkaFormat.Prensio, "p1 ✓", [], new TopicNames("{database}.{table}", "p1"));
        foreach (var e in events)
        {
            var topic = topics.For(e);
            var key = e.Key ?? PrensioCdcEvent.Key(e, topic);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions)) PrensioCdcEvent.Write(w, e, "p1 ✓", topic, key);
            Assert.Equal(key, Encoding.UTF8.GetString(encoder.Key(e)!));
            Assert.Equal(Encoding.UTF8.GetString(buffer.WrittenSpan), Encoding.UTF8.GetString(encoder.ValueSpan(e)));
            Assert.Equal(Encoding.UTF8.GetString(buffer.WrittenSpan), Encoding.UTF8.GetString(encoder.ValueSpan(e))); // asked twice
        }
    }

    [Theory]
    [InlineData("fa632d10-864b-11ed-843e-0242c0a86002:27", "fa632d10-864b-11ed-843e-0242c0a86002:1-27")]
    [InlineData("fa632d10-864b-11ed-843e-0242c0a86002:1-27", "fa632d10-864b-11ed-843e-0242c0a86002:1-27")]
    [InlineData("0-1-42", "0-1-42")]
    [InlineData("0-1-42,1-2-7", "0-1-42,1-2-7")]
    [InlineData("not a gtid", null)]
    [InlineData("", null)]
    public void A_prensio_state_gtid_resumes_after_that_transaction(string state, string? expected) =>
        Assert.Equal(expected, PrensioStateReader.ResumeGtid(state));

    [Fact]
    public void State_records_that_are_not_prensios_are_skipped()
    {
        Assert.Null(PrensioStateReader.Parse("nope"u8.ToArray(), 0));
        var s = PrensioStateReader.Parse("""{"gtid":"0-1-5","name":"p","timestamp":12}"""u8.ToArray(), 3)!;
        Assert.Equal(("0-1-5", "p", 12L, 3L), (s.Gtid, s.Name, s.Timestamp, s.Offset));
    }
}
