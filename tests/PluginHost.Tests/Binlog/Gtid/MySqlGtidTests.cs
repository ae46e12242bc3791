using PluginHost.Binlog.Gtid;

namespace PluginHost.Tests.Binlog.Gtid;

public class MySqlGtidTests
{
    [Fact]
    public void Parses_and_formats()
    {
        var g = MySqlGtid.Parse(" 3E11FA47-71CA-11E1-9E33-C80AA9429562:23 ");
        Assert.Equal(Guid.Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562"), g.ServerUuid);
        Assert.Equal(23, g.TransactionId);
        Assert.Equal("3e11fa47-71ca-11e1-9e33-c80aa9429562:23", g.ToString());
        Assert.Equal(g, MySqlGtid.Parse(g.ToString()));
    }

    [Fact]
    public void From_bytes_uses_text_order()
    {
        var bytes = Convert.FromHexString("3e11fa4771ca11e19e33c80aa9429562");
        Assert.Equal("3e11fa47-71ca-11e1-9e33-c80aa9429562:7", MySqlGtid.FromBytes(bytes, 7).ToString());
    }

    [Theory]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562", "uuid:number")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:0", "'0'")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:x", "'x'")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:9tag:5", "'9tag'")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:5:6", "uuid:tag:number")]
    [InlineData("nope:5", "'nope'")]
    public void Rejects_bad_text(string text, string fragment)
    {
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => MySqlGtid.Parse(text)).Message);
        Assert.False(MySqlGtid.TryParse(text, out _));
    }

    [Fact]
    public void Transaction_number_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MySqlGtid(Guid.NewGuid(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MySqlGtid(Guid.NewGuid(), long.MaxValue));
        Assert.Equal(MySqlGtid.MaxTransactionId, new MySqlGtid(Guid.Empty, MySqlGtid.MaxTransactionId).TransactionId);
    }
}
