using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

/// <summary>The event JSON: exact formatting of every value type, and Serialize → Parse → Serialize round trips.</summary>
public sealed class ChangeEventJsonTests
{
    private static readonly TableInfo Schema = new("shop", "all_types",
    [
        new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true),
        new ColumnInfo("dt0", ColumnKind.DateTime, FractionDigits: 0),
        new ColumnInfo("dt3", ColumnKind.DateTime, FractionDigits: 3),
        new ColumnInfo("dt6", ColumnKind.DateTime, FractionDigits: 6),
        new ColumnInfo("ts0", ColumnKind.Timestamp, FractionDigits: 0),
        new ColumnInfo("ts2", ColumnKind.Timestamp, FractionDigits: 2),
        new ColumnInfo("t0", ColumnKind.Time, FractionDigits: 0),
        new ColumnInfo("t4", ColumnKind.Time, FractionDigits: 4),
        new ColumnInfo("tneg", ColumnKind.Time, FractionDigits: 6),
        new ColumnInfo("tbig", ColumnKind.Time, FractionDigits: 0),
    ]);

    /// <summary>An event with one column of every value type the sdk hands out (and a few a transform might add).</summary>
    private static ChangeEvent AllTypes()
    {
        var after = new Row
        {
            ["id"] = 42L,
            ["neg"] = long.MinValue,
            ["u64"] = ulong.MaxValue,
            ["i32"] = 7,
            ["small"] = (short)-3,
            ["byte"] = (byte)200,
            ["dbl"] = 0.1 + 0.2,
            ["dbl_big"] = -1.7976931348623157E+308,
            ["dbl_int"] = 3.0,
            ["flt"] = 0.1f,
            ["dec"] = 12345.6700m,
            ["dec_str"] = "-123456789012345678901234567890.123456789",
            ["text"] = "Ann \"the\" O'Neil\\ é 中文 😀 \n\t\u0001 <b>&",
            ["empty"] = "",
            ["bin"] = new byte[] { 0, 1, 2, 0xFF, 0x10 },
            ["date"] = new DateOnly(2026, 11, 21),
            ["zero_date"] = "0000-00-00",
            ["dt0"] = new DateTime(2026, 1, 2, 3, 4, 5),
            ["dt3"] = new DateTime(2026, 1, 2, 3, 4, 5).AddTicks(1_200_000), // .120
            ["dt6"] = new DateTime(1000, 1, 1, 0, 0, 0).AddTicks(10), // .000001
            ["ts0"] = new DateTimeOffset(2038, 1, 19, 3, 14, 7, TimeSpan.Zero),
            ["ts2"] = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(4_500_000), // .45, shown in UTC
            ["t0"] = new TimeSpan(0, 1, 2, 3),
            ["t4"] = new TimeSpan(0, 0, 0, 1).Add(TimeSpan.FromTicks(1_234_000)), // .1234
            ["tneg"] = -new TimeSpan(0, 838, 59, 59).Add(TimeSpan.FromTicks(9_999_990)),
            ["tbig"] = new TimeSpan(0, 100, 0, 0),
            ["year"] = 2026L,
            ["bit"] = 0b1010UL,
            ["enum"] = "paid",
            ["set"] = new[] { "a", "c" },
            ["empty_set"] = Array.Empty<string>(),
            ["json"] = JsonNode.Parse("""{"a":[1,2.5,"x",null,true],"b":{"c":"é"}}"""),
            ["json_scalar"] = JsonNode.Parse("\"text\""),
            ["flag"] = true,
            ["nothing"] = null,
        };
        var e = new ChangeEvent
        {
            Op = ChangeOperation.Update,
            Database = "shop",
            Table = "all_types",
            Before = new Row { ["id"] = 42L, ["text"] = "old", ["nothing"] = null },
            After = after,
            Schema = Schema,
            Gtid = "0-1-42",
            File = "mysql-bin.000007",
            Position = 1234567,
            Timestamp = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero),
        };
        e.Extra["source"] = "test";
        e.Extra["attempt"] = 2L;
        e.Extra["tags"] = new[] { "x", "y" };
        e.Extra["meta"] = new Dictionary<string, object?> { ["k"] = 1L, ["n"] = null };
        return e;
    }

    [Fact]
    public void Values_are_written_by_the_event_JSON_rules()
    {
        var json = ChangeEventJson.Serialize(AllTypes());
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(["op", "database", "table", "before", "after", "gtid", "file", "pos", "ts", "source", "attempt", "tags", "meta"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("update", root.GetProperty("op").GetString());
        Assert.Equal(1234567, root.GetProperty("pos").GetInt64());
        Assert.Equal("2026-11-21T10:00:00Z", root.GetProperty("ts").GetString());

        var a = root.GetProperty("after");
        string Raw(string name) => a.GetProperty(name).GetRawText();
        Assert.Equal("42", Raw("id"));
        Assert.Equal("-9223372036854775808", Raw("neg"));
        Assert.Equal("18446744073709551615", Raw("u64"));
        Assert.Equal("-3", Raw("small"));
        Assert.Equal("200", Raw("byte"));
        Assert.Equal(0.1 + 0.2, a.GetProperty("dbl").GetDouble());
        Assert.Equal("0.1", Raw("flt"));
        Assert.Equal("\"12345.6700\"", Raw("dec"));
        Assert.Equal("\"-123456789012345678901234567890.123456789\"", Raw("dec_str"));
        Assert.Equal("Ann \"the\" O'Neil\\ é 中文 😀 \n\t\u0001 <b>&", a.GetProperty("text").GetString());
        Assert.Contains("é 中文", Raw("text")); // non-ASCII text is kept as is, not \u-escaped (characters outside the BMP are escaped by System.Text.Json's relaxed encoder)
        Assert.Equal("\"AAEC/xA=\"", Raw("bin"));
        Assert.Equal("\"2026-11-21\"", Raw("date"));
        Assert.Equal("\"0000-00-00\"", Raw("zero_date"));
        Assert.Equal("\"2026-01-02 03:04:05\"", Raw("dt0"));
        Assert.Equal("\"2026-01-02 03:04:05.120\"", Raw("dt3"));
        Assert.Equal("\"1000-01-01 00:00:00.000001\"", Raw("dt6"));
        Assert.Equal("\"2038-01-19T03:14:07Z\"", Raw("ts0"));
        Assert.Equal("\"2026-11-21T10:00:00.45Z\"", Raw("ts2"));
        Assert.Equal("\"01:02:03\"", Raw("t0"));
        Assert.Equal("\"00:00:01.1234\"", Raw("t4"));
        Assert.Equal("\"-838:59:59.999999\"", Raw("tneg"));
        Assert.Equal("\"100:00:00\"", Raw("tbig"));
        Assert.Equal("2026", Raw("year"));
        Assert.Equal("10", Raw("bit"));
        Assert.Equal("\"paid\"", Raw("enum"));
        Assert.Equal("[\"a\",\"c\"]", Raw("set"));
        Assert.Equal("[]", Raw("empty_set"));
        Assert.Equal("""{"a":[1,2.5,"x",null,true],"b":{"c":"é"}}""", Raw("json"));
        Assert.Equal("\"text\"", Raw("json_scalar"));
        Assert.Equal("true", Raw("flag"));
        Assert.Equal("null", Raw("nothing"));
        Assert.Equal("""{"id":42,"text":"old","nothing":null}""", root.GetProperty("before").GetRawText());
        Assert.Equal("""{"k":1,"n":null}""", root.GetProperty("meta").GetRawText());
        Assert.DoesNotContain('\n', json); // one event, one line
    }

    [Fact]
    public void Serialize_Parse_Serialize_is_identical_for_every_value_type()
    {
        var first = ChangeEventJson.Serialize(AllTypes());
        var parsed = ChangeEventJson.Parse(first);
        var second = ChangeEventJson.Serialize(parsed);
        Assert.Equal(first, second);
        Assert.Equal(first, ChangeEventJson.Serialize(ChangeEventJson.Parse(second)));
        Assert.Equal(first, System.Text.Encoding.UTF8.GetString(ChangeEventJson.SerializeToUtf8Bytes(parsed)));

        // Parsed values are JSON-typed .NET values.
        Assert.Equal(ChangeOperation.Update, parsed.Op);
        Assert.Equal(("shop", "all_types", "0-1-42", "mysql-bin.000007", 1234567L), (parsed.Database, parsed.Table, parsed.Gtid, parsed.File, parsed.Position));
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), parsed.Timestamp);
        var after = parsed.After!;
        Assert.Equal(42L, after["id"]);
        Assert.Equal(ulong.MaxValue, after["u64"]);
        Assert.Equal(0.1 + 0.2, after["dbl"]);
        Assert.Equal(3L, after["dbl_int"]);
        Assert.Equal("12345.6700", after["dec"]);
        Assert.Equal("2026-01-02 03:04:05.120", after["dt3"]);
        Assert.Equal(true, after["flag"]);
        Assert.True(after.ContainsKey("nothing"));
        Assert.Null(after["nothing"]);
        Assert.IsAssignableFrom<JsonNode>(after["json"]);
        Assert.IsAssignableFrom<JsonArray>(after["set"]);
        Assert.Equal("test", parsed.Extra["source"]);
        Assert.Equal(2L, parsed.Extra["attempt"]);
    }

    [Theory]
    [InlineData(ChangeOperation.Insert)]
    [InlineData(ChangeOperation.Delete)]
    public void Inserts_and_deletes_round_trip_with_a_null_image(ChangeOperation op)
    {
        var row = new Row { ["id"] = 1L, ["name"] = "x" };
        var e = new ChangeEvent
        {
            Op = op, Database = "d", Table = "t",
            Before = op == ChangeOperation.Delete ? row : null,
            After = op == ChangeOperation.Insert ? row : null,
        };
        var json = ChangeEventJson.Serialize(e);
        Assert.Contains(op == ChangeOperation.Insert ? "\"before\":null" : "\"after\":null", json);
        Assert.Contains("\"gtid\":null,\"file\":null,\"pos\":0", json);
        var back = ChangeEventJson.Parse(json);
        Assert.Equal(op, back.Op);
        Assert.Equal(json, ChangeEventJson.Serialize(back));
    }

    [Fact]
    public void Values_without_a_column_type_get_as_many_fraction_digits_as_they_need()
    {
        var e = new ChangeEvent
        {
            Op = ChangeOperation.Insert, Database = "d", Table = "t",
            After = new Row
            {
                ["dt"] = new DateTime(2026, 1, 2, 3, 4, 5),
                ["dtf"] = new DateTime(2026, 1, 2, 3, 4, 5).AddTicks(5_000_000),
                ["ts"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(10),
                ["t"] = TimeSpan.FromMilliseconds(-1500),
            },
        };
        var a = JsonDocument.Parse(ChangeEventJson.Serialize(e)).RootElement.GetProperty("after");
        Assert.Equal("2026-01-02 03:04:05", a.GetProperty("dt").GetString());
        Assert.Equal("2026-01-02 03:04:05.500000", a.GetProperty("dtf").GetString());
        Assert.Equal("2026-01-02T03:04:05.000001Z", a.GetProperty("ts").GetString());
        Assert.Equal("-00:00:01.500000", a.GetProperty("t").GetString());
    }

    [Fact]
    public void Column_names_from_the_schema_are_written_like_any_other_name_unescaped_UTF_8()
    {
        // Names are encoded once per table; they must come out exactly as a name written per event does, or Kafka
        // keys (and so partitions) would change for tables with such columns.
        var table = new TableInfo("db", "t", [new ColumnInfo("prénom", ColumnKind.Text, IsPrimaryKey: true), new ColumnInfo("a+b<c>", ColumnKind.Integer)]);
        var withSchema = new ChangeEvent { Database = "db", Table = "t", Schema = table, After = new Row { ["prénom"] = "Zoë", ["a+b<c>"] = 1L } };
        var withoutSchema = withSchema.Clone();
        withoutSchema.Schema = null;
        var json = ChangeEventJson.Serialize(withSchema);
        Assert.Contains("\"after\":{\"prénom\":\"Zoë\",\"a+b<c>\":1}", json);
        Assert.Equal(ChangeEventJson.Serialize(withoutSchema).Replace("\"schema\":null,", ""), json.Replace("\"schema\":null,", ""));
    }

    [Fact]
    public void Non_finite_numbers_from_a_transform_do_not_break_the_writer()
    {
        var e = new ChangeEvent { Op = ChangeOperation.Insert, Database = "d", Table = "t", After = new Row { ["nan"] = double.NaN, ["inf"] = float.PositiveInfinity } };
        var json = ChangeEventJson.Serialize(e);
        Assert.Contains("\"nan\":\"NaN\"", json);
        Assert.Contains("\"inf\":\"Infinity\"", json);
    }

    [Fact]
    public void Parse_rejects_what_is_not_an_event()
    {
        Assert.Throws<FormatException>(() => ChangeEventJson.Parse("[1]"));
        Assert.Throws<FormatException>(() => ChangeEventJson.Parse("""{"op":"upsert"}"""));
        Assert.Throws<FormatException>(() => ChangeEventJson.Parse("""{"op":"insert","after":[1]}"""));
    }

    [Fact]
    public void Row_keys_identify_rows_by_primary_key()
    {
        var a = AllTypes();
        var b = AllTypes();
        b.After!["text"] = "changed";
        Assert.Equal(a.RowKey(), b.RowKey());
        b.After["id"] = 43L;
        Assert.NotEqual(a.RowKey(), b.RowKey());
        Assert.Equal(new Dictionary<string, object?> { ["id"] = 42L }, a.PrimaryKey);

        var clone = a.Clone();
        clone.After!["id"] = 1L;
        clone.Extra["x"] = 1;
        Assert.Equal(42L, a.After!["id"]);
        Assert.False(a.Extra.ContainsKey("x"));
    }

    [Fact]
    public void Extra_fields_refuse_the_events_own_field_names_so_no_field_is_written_twice()
    {
        var e = AllTypes();
        var before = e.Extra.Count;
        foreach (var name in new[] { "op", "database", "table", "before", "after", "gtid", "file", "pos", "ts" })
        {
            var ex = Assert.Throws<ArgumentException>(() => e.Extra[name] = 1);
            Assert.Contains($"'{name}' is a field of the event itself", ex.Message);
            Assert.Throws<ArgumentException>(() => e.Extra.Add(name, 1));
            Assert.Throws<ArgumentException>(() => e.Extra.TryAdd(name, 1));
        }
        e.Extra["Op"] = "case differs";
        e.Extra["ext"] = 1;
        Assert.Equal(before + 2, e.Extra.Count);
        var json = JsonNode.Parse(e.ToString())!.AsObject();
        Assert.Equal("update", json["op"]!.GetValue<string>());
        Assert.Equal("case differs", json["Op"]!.GetValue<string>());
        Assert.Equal(1, json["ext"]!.GetValue<int>());
        Assert.Equal(json.Count, json.Select(kv => kv.Key).Distinct().Count());
    }
}
