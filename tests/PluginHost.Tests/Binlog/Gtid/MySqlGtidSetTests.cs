using System.Diagnostics;
using PluginHost.Binlog.Gtid;

namespace PluginHost.Tests.Binlog.Gtid;

public class MySqlGtidSetTests
{
    private const string U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string U2 = "4f4e2b4c-0000-11e1-9e33-c80aa9429562";

    private static Guid G(string s) => Guid.Parse(s);

    [Fact]
    public void Parses_and_formats_canonically()
    {
        var set = MySqlGtidSet.Parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18,4F4E2B4C-0000-11E1-9E33-C80AA9429562:1-27");
        Assert.Equal($"{U1}:1-5:11-18,{U2}:1-27", set.ToString());
        Assert.Equal([(1L, 5L), (11L, 18L)], set.GetIntervals(G(U1)));
        Assert.Equal([G(U1), G(U2)], set.ServerUuids);
    }

    [Fact]
    public void Tolerates_whitespace_newlines_and_order()
    {
        var text = $"  {U2.ToUpperInvariant()} : 1-27 ,\n\t{U1}:11 - 18:1-5\r\n";
        Assert.Equal($"{U1}:1-5:11-18,{U2}:1-27", MySqlGtidSet.Parse(text).ToString());
    }

    [Theory]
    [InlineData("1-5:3-8:10:9", "1-10")]
    [InlineData("11-18:1-5", "1-5:11-18")]
    [InlineData("1-5:6-10", "1-10")]
    [InlineData("7", "7")]
    [InlineData("7-7", "7")]
    [InlineData("1:3:5:2:4", "1-5")]
    [InlineData("1-100:50-60", "1-100")]
    [InlineData("10-20:1-9:21-30:40", "1-30:40")]
    [InlineData("9223372036854775806", "9223372036854775806")]
    public void MergesIntervals(string intervals, string expected) =>
        Assert.Equal($"{U1}:{expected}", MySqlGtidSet.Parse($"{U1}:{intervals}").ToString());

    [Fact]
    public void Same_UUID_in_several_elements_is_merged() =>
        Assert.Equal($"{U1}:1-5", MySqlGtidSet.Parse($"{U1}:5,{U1}:1-4").ToString());

    [Fact]
    public void UUID_forms_and_empty_sets()
    {
        Assert.Equal($"{U1}:1", MySqlGtidSet.Parse("3e11fa4771ca11e19e33c80aa9429562:1").ToString());
        Assert.Equal($"{U1}:1", MySqlGtidSet.Parse("{3e11fa47-71ca-11e1-9e33-c80aa9429562}:1").ToString());
        Assert.True(MySqlGtidSet.Parse("").IsEmpty);
        Assert.True(MySqlGtidSet.Parse(" \n ").IsEmpty);
        Assert.Equal("", MySqlGtidSet.Parse("").ToString());
        Assert.True(MySqlGtidSet.Parse(U1).IsEmpty); // a UUID without intervals holds nothing
    }

    [Fact]
    public void UUIDs_sort_by_their_text_not_by_signed_fields()
    {
        var set = MySqlGtidSet.Parse(
            "80000000-0000-0000-0000-000000000000:1,7fffffff-ffff-ffff-ffff-ffffffffffff:1," +
            "00000000-0000-0000-8000-000000000000:1,00000000-0000-0000-7fff-000000000000:1,ffffffff-0000-0000-0000-000000000000:1");
        Assert.Equal(
            "00000000-0000-0000-7fff-000000000000:1,00000000-0000-0000-8000-000000000000:1," +
            "7fffffff-ffff-ffff-ffff-ffffffffffff:1,80000000-0000-0000-0000-000000000000:1,ffffffff-0000-0000-0000-000000000000:1",
            set.ToString());
    }

    [Theory]
    [InlineData("xyz:1-5", "'xyz'")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa942956:1", "'3e11fa47-71ca-11e1-9e33-c80aa942956'")]
    [InlineData(U1 + ":0", "'0'")]
    [InlineData(U1 + ":5-3", "'5-3'")]
    [InlineData(U1 + ":1-", "empty transaction number")]
    [InlineData(U1 + ":", "empty interval")]
    [InlineData(U1 + ":1::2", "empty interval")]
    [InlineData(U1 + ":1-5x", "'5x'")]
    [InlineData(U1 + ":-5", "empty transaction number")]
    [InlineData(U1 + ":mytag", "tag 'mytag'")]
    [InlineData(U1 + ":a:b:1", "tag 'a'")]
    [InlineData(U1 + ":1a:1", "'1a'")]
    [InlineData(U1 + ":t-x:1", "'t-x'")]
    [InlineData(U1 + ":abcdefghijklmnopqrstuvwxyz0123456:1", "not a GTID tag")]
    [InlineData(U1 + ":1-5,," + U2 + ":1", "empty element")]
    [InlineData(U1 + ":9223372036854775807", "'9223372036854775807'")]
    [InlineData(U1 + ":99999999999999999999", "'99999999999999999999'")]
    public void InvalidTextNamesTheBadPart(string text, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => MySqlGtidSet.Parse(text));
        Assert.Contains(fragment, e.Message);
        Assert.False(MySqlGtidSet.TryParse(text, out _));
    }

    [Fact]
    public void Add_merges_and_reports_novelty()
    {
        var set = new MySqlGtidSet();
        var u = G(U1);
        Assert.True(set.Add(new MySqlGtid(u, 1)));
        Assert.True(set.Add(new MySqlGtid(u, 2)));
        Assert.False(set.Add(new MySqlGtid(u, 2)));
        Assert.True(set.Add(new MySqlGtid(u, 5)));
        Assert.True(set.Add(new MySqlGtid(u, 10)));
        Assert.Equal($"{U1}:1-2:5:10", set.ToString());
        Assert.True(set.Add(new MySqlGtid(u, 4)));
        Assert.True(set.Add(new MySqlGtid(u, 3)));
        Assert.False(set.Add(new MySqlGtid(u, 5)));
        Assert.False(set.Add(new MySqlGtid(u, 1)));
        Assert.Equal($"{U1}:1-5:10", set.ToString());
        Assert.True(set.Contains(new MySqlGtid(u, 3)));
        Assert.False(set.Contains(new MySqlGtid(u, 6)));
        Assert.False(set.Contains(new MySqlGtid(G(U2), 3)));
        Assert.Throws<ArgumentException>(() => set.Add(default));
    }

    [Fact]
    public void Add_agrees_with_a_model_on_random_input()
    {
        var r = new Random(5);
        for (var round = 0; round < 200; round++)
        {
            var set = new MySqlGtidSet();
            var model = new SortedSet<long>();
            var u = G(U1);
            for (var i = 0; i < 100; i++)
            {
                if (r.Next(4) == 0)
                {
                    var a = r.Next(1, 300);
                    var b = a + r.Next(0, 10);
                    set.AddRange(u, a, b);
                    for (long n = a; n <= b; n++) model.Add(n);
                }
                else
                {
                    var n = r.Next(1, 300);
                    Assert.Equal(model.Add(n), set.Add(new MySqlGtid(u, n)));
                }
            }
            for (long n = 0; n <= 320; n++)
                if (n >= 1) Assert.Equal(model.Contains(n), set.Contains(new MySqlGtid(u, n)));
            Assert.Equal(ModelText(U1, model), set.ToString());
            Assert.Equal(set, MySqlGtidSet.Decode(set.Encode()));
            Assert.Equal(set, MySqlGtidSet.Parse(set.ToString()));
        }
    }

    private static string ModelText(string uuid, SortedSet<long> model)
    {
        var parts = new List<string>();
        long? start = null, prev = null;
        foreach (var n in model)
        {
            if (prev is { } p && n == p + 1)
            {
                prev = n;
                continue;
            }
            if (start is { } s) parts.Add(s == prev ? $"{s}" : $"{s}-{prev}");
            start = prev = n;
        }
        if (start is { } s2) parts.Add(s2 == prev ? $"{s2}" : $"{s2}-{prev}");
        return parts.Count == 0 ? "" : uuid + ":" + string.Join(':', parts);
    }

    [Fact]
    public void Sequential_add_is_cheap()
    {
        var set = new MySqlGtidSet();
        var u = G(U1);
        var sw = Stopwatch.StartNew();
        for (long n = 1; n <= 2_000_000; n++) set.Add(new MySqlGtid(u, n));
        Assert.Equal($"{U1}:1-2000000", set.ToString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"2M adds took {sw.Elapsed}");
    }

    [Fact]
    public void Encodes_to_the_documented_binary_layout()
    {
        var set = MySqlGtidSet.Parse($"{U1}:1-5:11-18");
        var expected = MySqlJsonHex(
            "01 00 00 00 00 00 00 00" +
            "3e 11 fa 47 71 ca 11 e1 9e 33 c8 0a a9 42 95 62" +
            "02 00 00 00 00 00 00 00" +
            "01 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00" + // [1, 6): end exclusive
            "0b 00 00 00 00 00 00 00 13 00 00 00 00 00 00 00"); // [11, 19)
        Assert.Equal(expected, set.Encode());
        Assert.Equal(set, MySqlGtidSet.Decode(expected));
        Assert.Equal(MySqlJsonHex("00 00 00 00 00 00 00 00"), new MySqlGtidSet().Encode());
        Assert.True(MySqlGtidSet.Decode(new byte[8]).IsEmpty);
    }

    [Fact]
    public void Encode_decode_round_trips_several_UUIDs()
    {
        var set = MySqlGtidSet.Parse($"{U2}:1-27:30:100-9223372036854775806,{U1}:1-5:11-18");
        var bytes = set.Encode();
        var back = MySqlGtidSet.Decode(bytes);
        Assert.Equal(set.ToString(), back.ToString());
        Assert.Equal(bytes, back.Encode());

        byte[] withTrailer = [.. bytes, 1, 2, 3];
        Assert.Equal(set, MySqlGtidSet.Decode(withTrailer, out var consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(withTrailer));
    }

    [Fact]
    public void Decode_rejects_bad_data()
    {
        var good = MySqlGtidSet.Parse($"{U1}:1-5").Encode();
        for (var len = 0; len < good.Length; len++)
            Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(good.AsSpan(0, len)));

        var zeroStart = (byte[])good.Clone();
        zeroStart[8 + 16 + 8] = 0; // start 1 -> 0
        Assert.Contains("invalid interval", Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(zeroStart)).Message);

        var emptyInterval = (byte[])good.Clone();
        emptyInterval[8 + 16 + 8 + 8] = 1; // end 6 -> 1 == start
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(emptyInterval));

        var hugeCount = (byte[])good.Clone();
        hugeCount[0] = 0xff;
        hugeCount[5] = 0xff;
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(hugeCount));

        var hugeIntervals = (byte[])good.Clone();
        hugeIntervals[8 + 16 + 3] = 0x7f;
        Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(hugeIntervals));

        var unknownFormat = (byte[])good.Clone();
        unknownFormat[7] = 2;
        Assert.Contains("unknown format", Assert.Throws<FormatException>(() => MySqlGtidSet.Decode(unknownFormat)).Message);
    }

    [Fact]
    public void Clone_union_and_equality()
    {
        var a = MySqlGtidSet.Parse($"{U1}:1-5");
        var b = a.Clone();
        b.Add(new MySqlGtid(G(U1), 6));
        Assert.Equal($"{U1}:1-5", a.ToString());
        Assert.Equal($"{U1}:1-6", b.ToString());
        Assert.NotEqual(a, b);

        a.UnionWith(MySqlGtidSet.Parse($"{U2}:3,{U1}:6-9"));
        Assert.Equal($"{U1}:1-9,{U2}:3", a.ToString());
        Assert.Equal(MySqlGtidSet.Parse($"{U2}:3,{U1}:1-4:5-9"), a);
        Assert.Equal(MySqlGtidSet.Parse($"{U2}:3,{U1}:1-4:5-9").GetHashCode(), a.GetHashCode());
        Assert.Empty(a.GetIntervals(Guid.Empty));
    }

    private static byte[] MySqlJsonHex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
}
