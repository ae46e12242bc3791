using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;
using static PluginHost.Tests.Binlog.Decoding.MySql8EventBuilder;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>MySQL 8 PARTIAL_UPDATE_ROWS_EVENT (binlog_row_value_options=PARTIAL_JSON) built from rows_event.h and
/// json_diff.cc: the after value is the before value with the diffs applied.</summary>
public sealed class PartialUpdateRowsTests
{
    private const ulong TableId = 7;

    // id INT, doc JSON, note JSON: two JSON columns, so partial_bits has two bits.
    private static readonly IReadOnlyList<Col> Columns = [new(ColumnType.Long, []), new(ColumnType.Json, [4]), new(ColumnType.Json, [4])];
    private static readonly (byte, byte[])[] Names = [(4, [.. LenEncString("id"), .. LenEncString("doc"), .. LenEncString("note")])];

    private static BinlogEventDecoder Decoder()
    {
        var d = new BinlogEventDecoder();
        d.Decode(FormatDescription());
        d.Decode(TableMap(TableId, "shop", "items", Columns, Names));
        return d;
    }

    private static byte[] Shared(byte partialBits) => [1, partialBits];

    [Fact]
    public void Diffs_of_a_column_are_applied_to_its_before_value_and_a_full_column_is_taken_as_is()
    {
        const string doc = "{\"a\":{\"b\":[1,2,3]},\"name\":\"x\"}";
        var before = Image(LE32(1), JsonValue(doc), JsonValue("[1]"));
        // doc partial (bit 0): REPLACE $.a.b[1], INSERT $.a.c, REMOVE $.name, INSERT $.a.b[last]; note full (bit 1 clear).
        var after = Image(LE32(1),
            Diffs((0, "$.a.b[1]", "\"two\""), (1, "$.a.c", "{\"d\":null}"), (2, "$.name", null), (1, "$.a.b[9]", "4")),
            JsonValue("[1,2]"));
        var e = Assert.IsType<RowsEvent>(Decoder().Decode(PartialUpdateRows(TableId, 3, (before, Shared(0b01), after))));

        var row = Assert.Single(e.Rows);
        Assert.Equal(RowChangeKind.Update, e.Kind);
        Assert.Equal(doc, row.Before![1].JsonText());
        Assert.Equal("{\"a\":{\"b\":[1,\"two\",3,4],\"c\":{\"d\":null}}}", row.After![1].JsonText());
        Assert.Equal("[1,2]", row.After[2].JsonText());
        Assert.Equal(1, row.After[0].Int64);
    }

    [Fact]
    public void Rows_with_value_options_zero_and_several_rows_per_event_decode()
    {
        var r1 = (Image(LE32(1), JsonValue("{}"), null), new byte[] { 0 }, Image(LE32(1), JsonValue("{\"k\":1}"), null));
        var r2 = (Image(LE32(2), JsonValue("[true]"), JsonValue("{}")), Shared(0b11),
            Image(LE32(2), Diffs((1, "$[0]", "false")), Diffs((1, "$.z", "\"é\""))));
        var e = Assert.IsType<RowsEvent>(Decoder().Decode(PartialUpdateRows(TableId, 3, r1, r2)));

        Assert.Equal(2, e.Rows.Count);
        Assert.Equal("{\"k\":1}", e.Rows[0].After![1].JsonText());
        Assert.True(e.Rows[0].After![2].IsNull);
        Assert.Equal("[false,true]", e.Rows[1].After![1].JsonText());
        Assert.Equal("{\"z\":\"é\"}", e.Rows[1].After![2].JsonText());
        // What the sinks write: the same value as a full update of the same document would give.
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(writer)) ColumnValueJson.Write(w, e.Rows[1].After![1]);
        Assert.Equal("[false,true]", System.Text.Encoding.UTF8.GetString(writer.WrittenSpan));
    }

    [Fact]
    public void A_partial_column_missing_from_the_before_image_is_named_with_the_fix()
    {
        // binlog_row_image=MINIMAL: the before image holds only the key.
        byte[] body = [.. LE48(TableId), .. LE16(1), .. LE16(2), 3, 0b001, 0b111,
            .. Image(LE32(5)), .. Shared(0b01), .. Image(LE32(5), Diffs((0, "$.a", "1")), JsonValue("1"))];
        var e = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(Event(BinlogEventType.PartialUpdateRows, body)));
        Assert.Contains("shop.items.doc", e.Message);
        Assert.Contains("binlog_row_image=FULL", e.Message);
        Assert.Contains("PartialUpdateRows event at position", e.Message);
    }

    [Theory]
    [InlineData(2, "$.nothere", null, "does not exist")]
    [InlineData(0, "a.b", "1", "starting with '$'")]
    public void A_diff_that_does_not_apply_names_table_column_and_path(byte op, string path, string? json, string fragment)
    {
        var row = (Image(LE32(1), JsonValue("{\"a\":1}"), JsonValue("1")), Shared(0b01),
            Image(LE32(1), Diffs((op, path, json)), JsonValue("1")));
        var e = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(PartialUpdateRows(TableId, 3, row)));
        Assert.Contains("shop.items.doc", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Unknown_value_options_are_refused()
    {
        var row = (Image(LE32(1), JsonValue("{}"), JsonValue("1")), new byte[] { 3, 0 }, Image(LE32(1), JsonValue("{}"), JsonValue("1")));
        var e = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(PartialUpdateRows(TableId, 3, row)));
        Assert.Contains("value options 0x3", e.Message);
    }
}
