using PluginHost.Binlog.Gtid;
using static PluginHost.Tests.Binlog.Decoding.MySql8EventBuilder;

namespace PluginHost.Tests.Binlog.Gtid;

/// <summary>MySQL 8.3+ tagged GTIDs (<c>uuid:tag:N</c>) in GTIDs and GTID sets: text, set operations and the tagged
/// binary encoding of COM_BINLOG_DUMP_GTID / PREVIOUS_GTIDS (go-mysql's mysql_gtid.go, rpl_gtid_set.cc).</summary>
public sealed class MySqlTaggedGtidSetTests
{
    private const string U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string U2 = "4f4e2b4c-0000-11e1-9e33-c80aa9429562";

    [Fact]
    public void A_tagged_gtid_parses_formats_and_differs_from_the_untagged_one()
    {
        var g = MySqlGtid.Parse($" {U1} : ETL_1 : 5 ");
        Assert.Equal("etl_1", g.Tag);
        Assert.Equal($"{U1}:etl_1:5", g.ToString());
        Assert.NotEqual(MySqlGtid.Parse($"{U1}:5"), g);
        Assert.Equal(g, new MySqlGtid(Guid.Parse(U1), "etl_1", 5));
        Assert.Throws<ArgumentException>(() => new MySqlGtid(Guid.Parse(U1), "no-dash", 5));
    }

    [Fact]
    public void Text_keeps_untagged_intervals_first_then_tags_in_order()
    {
        var set = MySqlGtidSet.Parse($"{U2}:b:3,{U1}:zeta:1-2:4:Alpha:7,{U1}:1-3:alpha:8");
        Assert.Equal($"{U1}:1-3:alpha:7-8:zeta:1-2:4,{U2}:b:3", set.ToString());
        Assert.Equal(["", "alpha", "zeta"], set.GetTags(Guid.Parse(U1)));
        Assert.Equal([(7L, 8L)], set.GetIntervals(Guid.Parse(U1), "alpha"));
        Assert.Equal([(1L, 3L)], set.GetIntervals(Guid.Parse(U1)));
        Assert.True(set.HasTags);
        Assert.Equal(set, MySqlGtidSet.Parse(set.ToString()));
    }

    [Fact]
    public void Contains_add_and_superset_respect_tags()
    {
        var set = MySqlGtidSet.Parse($"{U1}:1-5:etl:1-2");
        Assert.True(set.Contains(MySqlGtid.Parse($"{U1}:etl:2")));
        Assert.False(set.Contains(MySqlGtid.Parse($"{U1}:etl:3")));
        Assert.False(set.Contains(MySqlGtid.Parse($"{U1}:other:1")));
        Assert.True(set.Add(MySqlGtid.Parse($"{U1}:etl:3")));
        Assert.False(set.Add(MySqlGtid.Parse($"{U1}:etl:3")));
        Assert.Equal($"{U1}:1-5:etl:1-3", set.ToString());
        Assert.True(set.IsSupersetOf(MySqlGtidSet.Parse($"{U1}:2-4:etl:3")));
        Assert.False(set.IsSupersetOf(MySqlGtidSet.Parse($"{U1}:etl:4")));
        Assert.False(set.IsSupersetOf(MySqlGtidSet.Parse($"{U1}:x:1")));
    }

    [Fact]
    public void Tagged_binary_form_matches_the_documented_layout_and_round_trips()
    {
        var set = MySqlGtidSet.Parse($"{U1}:1-5:etl:7");
        var bytes = set.Encode();
        byte[] expected =
        [
            1, 2, 0, 0, 0, 0, 0, 1, // version 1, two (uuid, tag) entries, tagged marker
            .. Convert.FromHexString(U1.Replace("-", "")), .. Varint(0), 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
            .. Convert.FromHexString(U1.Replace("-", "")), .. Varint(3), .. "etl"u8, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, bytes);
        Assert.Equal(set, MySqlGtidSet.Decode(bytes));
        // Without tags the classic form stays.
        Assert.Equal(0, MySqlGtidSet.Parse($"{U1}:1-5").Encode()[7]);
    }

    [Fact]
    public void Corrupt_tagged_binary_is_refused()
    {
        var bytes = MySqlGtidSet.Parse($"{U1}:etl:7").Encode();
        var badTag = (byte[])bytes.Clone();
        badTag[8 + 16 + 1] = (byte)'-';
        Assert.Contains("invalid tag", Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(badTag)).Message);
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(bytes[..^4]));
        var longTag = (byte[])bytes.Clone();
        longTag[8 + 16] = (byte)(Varint(40)[0]);
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(longTag));
    }
}
