using PluginHost.Binlog.Gtid;

namespace PluginHost.Tests.Binlog.Gtid;

public class MariaDbGtidTests
{
    [Fact]
    public void Parses_and_formats_a_GTID()
    {
        var g = MariaDbGtid.Parse(" 0-1-42 ");
        Assert.Equal(new MariaDbGtid(0, 1, 42), g);
        Assert.Equal("0-1-42", g.ToString());
        Assert.Equal("4294967295-4294967295-18446744073709551615", new MariaDbGtid(uint.MaxValue, uint.MaxValue, ulong.MaxValue).ToString());
        Assert.Equal(new MariaDbGtid(uint.MaxValue, uint.MaxValue, ulong.MaxValue), MariaDbGtid.Parse("4294967295-4294967295-18446744073709551615"));
    }

    [Theory]
    [InlineData("0-1", "domain-server-sequence")]
    [InlineData("", "domain-server-sequence")]
    [InlineData("a-1-2", "domain id 'a'")]
    [InlineData("0--2", "server id ''")]
    [InlineData("0-1-2-3", "sequence number '2-3'")]
    [InlineData("-1-2-3", "domain id ''")]
    [InlineData("4294967296-1-2", "domain id '4294967296'")]
    [InlineData("0-1-18446744073709551616", "sequence number")]
    [InlineData("0-+1-2", "server id '+1'")]
    public void RejectsBadGtids(string text, string fragment)
    {
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => MariaDbGtid.Parse(text)).Message);
        Assert.False(MariaDbGtid.TryParse(text, out _));
    }

    [Fact]
    public void Parses_and_formats_a_list()
    {
        var list = MariaDbGtidList.Parse("1-2-7, \n0-1-42");
        Assert.Equal("0-1-42,1-2-7", list.ToString());
        Assert.Equal(2, list.Count);
        Assert.True(list.TryGet(1, out var g));
        Assert.Equal(new MariaDbGtid(1, 2, 7), g);
        Assert.False(list.TryGet(5, out _));
        Assert.Equal([new MariaDbGtid(0, 1, 42), new MariaDbGtid(1, 2, 7)], list.ToArray());
        Assert.Equal(list, MariaDbGtidList.Parse(list.ToString()));
        Assert.True(MariaDbGtidList.Parse("").IsEmpty);
        Assert.Equal("", MariaDbGtidList.Parse("  ").ToString());
    }

    [Fact]
    public void Update_replaces_the_domain_entry()
    {
        var list = MariaDbGtidList.Parse("0-1-42,1-2-7");
        list.Update(new MariaDbGtid(0, 3, 43));
        Assert.Equal("0-3-43,1-2-7", list.ToString());
        list.Update(new MariaDbGtid(5, 1, 1));
        list.Update(new MariaDbGtid(2, 1, 9));
        Assert.Equal("0-3-43,1-2-7,2-1-9,5-1-1", list.ToString());
        var copy = list.Clone();
        list.Update(new MariaDbGtid(5, 1, 2));
        Assert.Equal("0-3-43,1-2-7,2-1-9,5-1-1", copy.ToString());
        Assert.NotEqual(copy, list);
        Assert.True(list.Remove(2));
        Assert.False(list.Remove(2));
        Assert.Equal("0-3-43,1-2-7,5-1-2", list.ToString());
    }

    [Theory]
    [InlineData("0-1-42,0-2-43", "domain 0")]
    [InlineData("0-1-42,,1-2-3", "empty element")]
    [InlineData("0-1-42,x", "'x'")]
    public void Rejects_bad_lists(string text, string fragment)
    {
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => MariaDbGtidList.Parse(text)).Message);
        Assert.False(MariaDbGtidList.TryParse(text, out _));
    }

    [Fact]
    public void Constructor_rejects_duplicate_domains()
    {
        Assert.Equal("0-1-1,3-1-1", new MariaDbGtidList([new MariaDbGtid(3, 1, 1), new MariaDbGtid(0, 1, 1)]).ToString());
        Assert.Throws<ArgumentException>(() => new MariaDbGtidList([new MariaDbGtid(3, 1, 1), new MariaDbGtid(3, 2, 2)]));
    }
}
