using System.Buffers.Binary;
using System.Text;
using PluginHost.Binlog.Json;

namespace PluginHost.Tests.Binlog.Json;

public class MySqlJsonDiffTests
{
    private static byte[] Hex(string hex) => MySqlJsonBinaryTests.Hex(hex);

    // REPLACE $.a with 1, INSERT $.b[0] with "x", REMOVE $.c
    private const string ThreeDiffs =
        "00 03 24 2e 61 03 05 01 00 |" +
        "01 06 24 2e 62 5b 30 5d 03 0c 01 78 |" +
        "02 03 24 2e 63";

    [Fact]
    public void Decodes_replace_insert_and_remove()
    {
        var diffs = MySqlJsonDiff.Decode(Hex(ThreeDiffs));
        Assert.Equal(
            [
                new MySqlJsonDiff(MySqlJsonDiffOperation.Replace, "$.a", "1"),
                new MySqlJsonDiff(MySqlJsonDiffOperation.Insert, "$.b[0]", "\"x\""),
                new MySqlJsonDiff(MySqlJsonDiffOperation.Remove, "$.c", null),
            ],
            diffs);
        Assert.Empty(MySqlJsonDiff.Decode([]));
    }

    [Fact]
    public void Decodes_a_length_prefixed_vector()
    {
        var body = Hex(ThreeDiffs);
        var data = new byte[4 + body.Length + 3];
        BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)body.Length);
        body.CopyTo(data, 4);
        var diffs = MySqlJsonDiff.DecodeLengthPrefixed(data, out var consumed);
        Assert.Equal(3, diffs.Count);
        Assert.Equal(4 + body.Length, consumed);
    }

    [Fact]
    public void Container_values_and_long_paths_use_packed_lengths()
    {
        var path = "$." + new string('k', 300);
        var value = Hex(MySqlJsonBinaryTests.SmallObject);
        byte[] diff = [0x00, 0xfc, (byte)(path.Length & 0xff), (byte)(path.Length >> 8), .. Encoding.UTF8.GetBytes(path), (byte)value.Length, .. value];
        var d = Assert.Single(MySqlJsonDiff.Decode(diff));
        Assert.Equal(path, d.Path);
        Assert.Equal("{\"a\":1,\"b\":\"x\"}", d.Value);

        var big = MySqlJsonTestEncoder.Encode(new TString(new string('v', 70_000)));
        byte[] diff2 = [0x01, 0x04, .. "$[0]"u8, 0xfd, (byte)big.Length, (byte)(big.Length >> 8), (byte)(big.Length >> 16), .. big];
        Assert.Equal(70_002, Assert.Single(MySqlJsonDiff.Decode(diff2)).Value!.Length);
    }

    [Theory]
    [InlineData("03 03 24 2e 61", "unknown operation 3")]
    [InlineData("00 05 24 2e 61", "runs past the end")]
    [InlineData("00 03 24 2e 61", "value length truncated")]
    [InlineData("00 03 24 2e 61 05 05 01 00", "runs past the end")]
    [InlineData("00 03 24 2e 61 00", "empty")]
    [InlineData("00 03 24 2e 61 02 04 09", "bad value")]
    [InlineData("02 00", "path")]
    [InlineData("02 03 61 2e 62", "path")]
    [InlineData("02 fb", "invalid prefix")]
    [InlineData("02 fc 01", "truncated")]
    [InlineData("02", "truncated")]
    public void MalformedDiffsAreRejected(string hex, string fragment)
    {
        var e = Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonDiff.Decode(Hex(hex)));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Length_prefix_past_the_end_is_rejected()
    {
        Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonDiff.DecodeLengthPrefixed(Hex("05 00 00 00 02 03 24 2e"), out _));
        Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonDiff.DecodeLengthPrefixed(Hex("05 00"), out _));
    }

    [Fact]
    public void Fuzzed_diffs_throw_only_format_exceptions()
    {
        var r = new Random(99);
        var valid = Hex(ThreeDiffs);
        int decoded = 0, refused = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var data = (byte[])valid.Clone();
            for (var k = r.Next(1, 4); k > 0; k--) data[r.Next(data.Length)] = (byte)r.Next(256);
            if (r.Next(3) == 0) data = data[..r.Next(data.Length + 1)];
            try
            {
                MySqlJsonDiff.Decode(data);
                decoded++;
            }
            catch (MySqlJsonFormatException)
            {
                refused++;
            }
        }
        // Any other exception fails the test; both outcomes must occur, or the fuzzing did not reach the decoder.
        Assert.True(decoded > 0 && refused > 0, $"decoded {decoded}, refused {refused}");
    }
}
