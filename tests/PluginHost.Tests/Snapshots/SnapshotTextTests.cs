using PluginHost.Binlog.Replication;
using PluginHost.Sdk;
using PluginHost.Snapshots;

namespace PluginHost.Tests.Snapshots;

/// <summary>The snapshot's text handling without a server: the <c>where</c> checks, key quoting, schema text parsing.</summary>
public sealed class SnapshotTextTests
{
    [Theory]
    [InlineData("a = 1")]
    [InlineData("created_at > '2026-01-01' AND (x IS NULL OR y IN (1, 2))")]
    [InlineData("name = 'it''s; -- /* not a comment */ #'")]
    [InlineData("name = \"a;b\" OR `we;ird` = 'x\\'y;'")]
    [InlineData("a - 1 > 0")]
    public void Conditions_that_stay_one_condition_pass(string where) => SnapshotWhere.Check(where);

    [Theory]
    [InlineData("a = 1; DROP TABLE t", "';'")]
    [InlineData("a = 1 -- x", "comment")]
    [InlineData("a = 1 # x", "comment")]
    [InlineData("a /* x */ = 1", "comment")]
    [InlineData("a = 1) OR (1 = 1", "closes a parenthesis")]
    [InlineData("(a = 1", "open")]
    [InlineData("a = 'x", "unterminated")]
    [InlineData("   ", "empty")]
    public void Conditions_that_could_escape_their_parentheses_are_refused(string where, string reason)
    {
        var e = Assert.Throws<SnapshotWhereException>(() => SnapshotWhere.Check(where));
        Assert.Contains("'where'", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_too_long_condition_is_refused() =>
        Assert.Contains("longer", Assert.Throws<SnapshotWhereException>(() => SnapshotWhere.Check(new string('1', SnapshotWhere.MaxLength + 1))).Message);

    [Fact]
    public void Labels_and_json_checks_parse_as_the_server_writes_them()
    {
        // The snapshot describes tables with the binlog client's own parsers (one place for both halves).
        Assert.Equal(["a", "b'c", "d\\e", ""], InformationSchemaText.ParseLabels("enum('a','b''c','d\\\\e','')"));
        Assert.Equal(["x", "y,z"], InformationSchemaText.ParseLabels("set('x','y,z')"));
        Assert.Equal(["é", "😀"], InformationSchemaText.ParseLabels("enum('é','😀')"));
        Assert.Equal("j", InformationSchemaText.JsonValidColumn("json_valid(`j`)"));
        Assert.Equal("a`b", InformationSchemaText.JsonValidColumn("json_valid(`a``b`)"));
        Assert.Null(InformationSchemaText.JsonValidColumn("json_valid(`a`) and `b` > 0"));
        Assert.Null(InformationSchemaText.JsonValidColumn("json_valid(j)"));
        Assert.Null(InformationSchemaText.JsonValidColumn(null));
    }

    [Fact]
    public void Key_literals_are_checked_and_quoted_by_type()
    {
        SnapshotColumn Col(string type, ColumnKind kind, string? charset = null, string[]? labels = null) =>
            new("k", type, kind, false, charset is null ? 63 : 45, charset, 0, 0, labels, true, false);
        Assert.Equal("-42", ChunkSql.Literal(Col("int", ColumnKind.Integer), "-42"u8.ToArray()));
        Assert.Equal("'2024-01-02 03:04:05.5'", ChunkSql.Literal(Col("datetime", ColumnKind.DateTime), "2024-01-02 03:04:05.5"u8.ToArray()));
        Assert.Equal("X'00275C'", ChunkSql.Literal(Col("varbinary", ColumnKind.Binary), [0x00, 0x27, 0x5C]));
        Assert.Equal("_utf8mb4 X'6927'", ChunkSql.Literal(Col("varchar", ColumnKind.Text, "utf8mb4"), "i'"u8.ToArray()));
        Assert.Equal("2", ChunkSql.Literal(Col("enum", ColumnKind.Enum, "utf8mb4", ["b", "a"]), "a"u8.ToArray()));
        Assert.Equal("5", ChunkSql.Literal(Col("set", ColumnKind.Set, "utf8mb4", ["x", "y", "z"]), "x,z"u8.ToArray()));
        Assert.Equal("257", ChunkSql.Literal(Col("bit", ColumnKind.Bit), [1, 1]));
        foreach (var bad in new[] { "1 OR 1=1", "1;", "'1'" })
            Assert.Throws<SnapshotException>(() => ChunkSql.Literal(Col("int", ColumnKind.Integer), System.Text.Encoding.ASCII.GetBytes(bad)));
        Assert.Throws<SnapshotException>(() => ChunkSql.Literal(Col("date", ColumnKind.Date), "2024-01-01' OR '1"u8.ToArray()));
        Assert.Throws<SnapshotException>(() => ChunkSql.Literal(Col("varchar", ColumnKind.Text, "utf8mb4' OR"), "x"u8.ToArray()));
        Assert.Throws<FormatException>(() => SnapshotKey.Parse("not json"));
        Assert.Throws<FormatException>(() => SnapshotKey.Parse("[]"));
        Assert.Throws<FormatException>(() => SnapshotKey.Parse("[\"zz\"]"));
    }

    [Fact]
    public void A_key_s_text_is_the_serializer_s_json_array_of_hex_strings_and_reads_back()
    {
        foreach (var values in new[] { new[] { "42"u8.ToArray() }, [[], [0x00, 0xFF, 0x22, 0x5C]], [[0x7F], [0x80], "abc"u8.ToArray()] })
        {
            var key = new SnapshotKey(values);
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(values.Select(Convert.ToHexString).ToArray()), key.ToString());
            Assert.Equal(key, SnapshotKey.Parse(key.ToString()));
        }
    }
}
