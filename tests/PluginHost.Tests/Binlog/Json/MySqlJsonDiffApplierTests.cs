using PluginHost.Binlog;
using PluginHost.Binlog.Json;
using static PluginHost.Binlog.Json.MySqlJsonDiffOperation;

namespace PluginHost.Tests.Binlog.Json;

/// <summary>Partial JSON diffs applied to a before value with the semantics of MySQL's apply_json_diffs (sql/json_diff.cc).</summary>
public sealed class MySqlJsonDiffApplierTests
{
    private static string Apply(string before, params MySqlJsonDiff[] diffs) =>
        System.Text.Encoding.UTF8.GetString(MySqlJsonDiffApplier.Apply(before, diffs));

    private static MySqlJsonDiff D(MySqlJsonDiffOperation op, string path, string? value = null) => new(op, path, value);

    [Fact]
    public void Replace_changes_a_member_and_an_array_cell_in_nested_values()
    {
        Assert.Equal("{\"a\":{\"b\":[1,\"two\",3]},\"c\":true}",
            Apply("{\"a\":{\"b\":[1,2,3]},\"c\":false}", D(Replace, "$.a.b[1]", "\"two\""), D(Replace, "$.c", "true")));
        Assert.Equal("[1,2,{\"x\":null}]", Apply("[1,2,3]", D(Replace, "$[last]", "{\"x\":null}")));
        Assert.Equal("[1,9,3]", Apply("[1,2,3]", D(Replace, "$[last-1]", "9")));
    }

    [Fact]
    public void Insert_puts_a_new_key_where_mysql_stores_it_and_array_cells_at_their_index()
    {
        // MySQL's binary JSON orders keys by length, then bytes: "b" before "aa", "zz" before "abc".
        Assert.Equal("{\"b\":1,\"aa\":2,\"zz\":3,\"abc\":4}", Apply("{\"b\":1,\"aa\":2,\"abc\":4}", D(Insert, "$.zz", "3")));
        Assert.Equal("[0,1,2]", Apply("[1,2]", D(Insert, "$[0]", "0")));
        Assert.Equal("[1,2,3]", Apply("[1,2]", D(Insert, "$[7]", "3"))); // past the end: appended
        Assert.Equal("{\"a\":[{\"k\":[\"v\"]}]}", Apply("{\"a\":[{}]}", D(Insert, "$.a[0].k", "[\"v\"]")));
    }

    [Fact]
    public void Remove_drops_members_and_cells_and_diffs_apply_in_order()
    {
        Assert.Equal("{\"a\":[2]}", Apply("{\"a\":[1,2],\"b\":0}", D(Remove, "$.b"), D(Remove, "$.a[0]")));
        Assert.Equal("{\"n\":2}", Apply("{\"n\":1}", D(Remove, "$.n"), D(Insert, "$.n", "2")));
    }

    [Fact]
    public void Quoted_member_names_and_scalars_keep_mysql_text()
    {
        Assert.Equal("{\"a b\":\"é\\n\",\"d\":1.50}",
            Apply("{\"a b\":0,\"d\":1.50}", D(Replace, "$.\"a b\"", "\"é\\n\"")));
        Assert.Equal("{\"x\":1,\"k\\\"q\":2}", Apply("{\"x\":1}", D(Insert, "$.\"k\\\"q\"", "2")));
    }

    [Theory]
    [InlineData("{\"a\":1}", Replace, "$.b", "does not exist")]
    [InlineData("{\"a\":1}", Insert, "$.a", "exists already")]
    [InlineData("{\"a\":1}", Remove, "$.b", "does not exist")]
    [InlineData("[1]", Remove, "$[3]", "does not exist")]
    [InlineData("{\"a\":1}", Replace, "$", "root")]
    [InlineData("{\"a\":1}", Replace, "$.x.y", "$.x does not exist")]
    [InlineData("{\"a\":1}", Replace, "$.a[*]", "wildcards")]
    [InlineData("[1]", Insert, "$.a", "not an object or array")]
    public void A_diff_the_server_would_reject_is_refused_with_its_path(string before, MySqlJsonDiffOperation op, string path, string fragment)
    {
        var e = Assert.Throws<BinlogFormatException>(() => Apply(before, D(op, path, op == Remove ? null : "0")));
        Assert.Contains(fragment, e.Message);
    }
}
