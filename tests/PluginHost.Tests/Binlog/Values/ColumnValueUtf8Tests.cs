using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Binlog.Decoding;

namespace PluginHost.Tests.Binlog.Values;

/// <summary>
/// <c>pluginhost decode</c>'s straight-to-bytes value writer (<see cref="ColumnValueUtf8"/>) against the
/// Utf8JsonWriter path it stands in for (<see cref="ColumnValueJson"/> with the relaxed encoder): byte-identical JSON for
/// every value it writes, and the values it leaves (-1) are exactly the ones it cannot write as the other does.
/// </summary>
public sealed class ColumnValueUtf8Tests
{
    private static readonly JsonWriterOptions Options = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Reference(ColumnValue v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Options)) ColumnValueJson.Write(w, v);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The fast writer's JSON, or null when it leaves the value to the other.</summary>
    private static string? Fast(ColumnValue v)
    {
        var room = ColumnValueUtf8.RoomFor(v);
        var dest = new byte[room + 16];
        dest.AsSpan().Fill(0xEE);
        var n = ColumnValueUtf8.TryWrite(v, dest.AsSpan(0, room));
        if (n < 0)
        {
            Assert.All(dest, b => Assert.Equal(0xEE, b)); // nothing written
            return null;
        }
        Assert.All(dest[n..], b => Assert.Equal(0xEE, b)); // nothing past what it says it wrote
        return Encoding.UTF8.GetString(dest, 0, n);
    }

    /// <summary>Asserts the fast writer writes <paramref name="v"/> exactly as the reference does; returns whether it wrote it.</summary>
    private static bool Same(ColumnValue v)
    {
        var fast = Fast(v);
        if (fast != null) Assert.Equal(Reference(v), fast);
        return fast != null;
    }

    [Fact]
    public void Integers_floats_and_doubles_are_written_as_the_json_writer_writes_them()
    {
        var rng = new Random(17);
        long[] ints = [0, 1, -1, 9, 10, -10, 99, 100, long.MaxValue, long.MinValue, int.MaxValue, int.MinValue, 1_000_000_007];
        foreach (var i in ints.Concat(Enumerable.Range(0, 2000).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue) >> rng.Next(64))))
        {
            Assert.True(Same(ColumnValue.FromInt(i)));
            Assert.True(Same(ColumnValue.FromUInt((ulong)i)));
            Assert.True(Same(ColumnValue.FromYear((int)(i & 0xFFF))));
            Assert.True(Same(ColumnValue.FromBit((ulong)i, 64)));
        }
        double[] doubles = [0, -0.0, 0.1, 0.2 + 0.1, 1e21, 1e20, 1e-7, 1e-5, 123456789012345678, 1.7976931348623157e308, -1.7976931348623157e308,
            double.Epsilon, 2.2250738585072014e-308, 1.0 / 3, 100, 1e15, 1e16, 1e17, -2.25e-300, 4.35, 0.000123];
        var randomDoubles = Enumerable.Range(0, 20000).Select(_ => BitConverter.Int64BitsToDouble(rng.NextInt64())).Where(double.IsFinite);
        foreach (var d in doubles.Concat(randomDoubles).Concat(Enumerable.Range(0, 5000).Select(_ => Math.Round(rng.NextDouble() * 1e6, rng.Next(8)))))
        {
            Assert.True(Same(ColumnValue.FromDouble(d)));
            if (float.IsFinite((float)d)) Assert.True(Same(ColumnValue.FromFloat((float)d)));
        }
        foreach (var f in Enumerable.Range(0, 20000).Select(_ => BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31))).Where(float.IsFinite))
            Assert.True(Same(ColumnValue.FromFloat(f)));
    }

    [Fact]
    public void Decimals_dates_times_and_timestamps_are_written_as_the_json_writer_writes_them()
    {
        var rng = new Random(23);
        for (var n = 0; n < 5000; n++)
        {
            var p = rng.Next(1, 66);
            var s = rng.Next(0, Math.Min(p, 30) + 1);
            var ip = new string(Enumerable.Range(0, rng.Next(p - s + 1)).Select(_ => (char)('0' + rng.Next(10))).ToArray()).TrimStart('0');
            var fp = new string(Enumerable.Range(0, s).Select(_ => (char)('0' + rng.Next(10))).ToArray());
            var text = (ip.Length == 0 ? "0" : ip) + (s > 0 ? "." + fp : "");
            if (rng.Next(2) == 0 && text.Any(c => c is >= '1' and <= '9')) text = "-" + text;
            var bytes = HandBuiltEncodingTests.DecimalBin(text, p, s);
            var v = ColumnValue.FromSlice(ValueKind.Decimal, bytes, 0, bytes.Length, (ushort)p, (byte)s);
            Assert.True(Same(v));
            Assert.Equal($"\"{text}\"", Fast(v));
        }
        Assert.Null(Fast(ColumnValue.FromDecimalString("-12.5"))); // old-style DECIMAL digits: left to the other writer

        MySqlDateTime[] dates = [new(0, 0, 0, 0, 0, 0, 0), new(2026, 2, 0, 23, 59, 59, 999999), new(9999, 12, 31, 23, 59, 59, 1), new(1, 1, 1, 0, 0, 0, 500000)];
        for (var fsp = 0; fsp <= 6; fsp++)
        {
            foreach (var d in dates.Concat(Enumerable.Range(0, 300).Select(_ => new MySqlDateTime(rng.Next(10000), rng.Next(13), rng.Next(32),
                         rng.Next(24), rng.Next(60), rng.Next(60), rng.Next(1_000_000)))))
            {
                Assert.True(Same(ColumnValue.FromDate(d)));
                Assert.True(Same(ColumnValue.FromDateTime(d, fsp)));
            }
            foreach (var t in Enumerable.Range(0, 300).Select(_ => new MySqlDateTime(0, 0, 0, rng.Next(839), rng.Next(60), rng.Next(60), rng.Next(1_000_000), rng.Next(2) == 0))
                         .Append(new MySqlDateTime(0, 0, 0, 838, 59, 59, 0, true)).Append(new MySqlDateTime(0, 0, 0, 0, 0, 0, 500000, true)))
                Assert.True(Same(ColumnValue.FromTime(t, fsp)));
            foreach (var seconds in new long[] { 0, 1, 2147483647, 1_700_000_000 }.Concat(Enumerable.Range(0, 300).Select(_ => rng.NextInt64(0, uint.MaxValue))))
                Assert.True(Same(ColumnValue.FromTimestamp(seconds, seconds == 0 ? 0 : rng.Next(1_000_000), fsp)));
        }
    }

    [Fact]
    public void Text_is_written_as_it_is_only_when_plain_ascii_in_a_set_that_reads_ascii_as_itself()
    {
        int[] collations = [45, 33, 8, 11, 63, 54, 35, 95, 12, 28, 1, 2047, 5000, 0];
        var samples = new List<byte[]>();
        for (var b = 0; b < 256; b++) samples.Add([(byte)'a', (byte)b, (byte)'z']);
        samples.Add([]);
        samples.Add("customer-42 <&> 'x' + `y` ~{}|"u8.ToArray());
        samples.Add("Zoë 中文 😀 \"q\" \\ \n"u8.ToArray());
        samples.Add([0xFF, 0xFE, 0x61]);
        foreach (var collation in collations)
            foreach (var bytes in samples)
            {
                var v = ColumnValue.FromSlice(ValueKind.String, bytes, 0, bytes.Length, (ushort)collation);
                var plain = !bytes.AsSpan().ContainsAnyExcept(ColumnValueUtf8.PlainAscii);
                Assert.Equal(plain && Charsets.IsAsciiTransparent(collation), Same(v));
            }
        // A value that is a slice of a bigger buffer.
        var buffer = "xx\"ab\"yy"u8.ToArray();
        Assert.Equal("\"ab\"", Fast(ColumnValue.FromSlice(ValueKind.String, buffer, 3, 2, 45)));
    }

    [Fact]
    public void Binary_is_base64_with_BINARY_padding_restored_and_the_rest_is_left_to_the_json_writer()
    {
        var rng = new Random(5);
        for (var n = 0; n < 500; n++)
        {
            var bytes = new byte[rng.Next(300)];
            rng.NextBytes(bytes);
            Assert.True(Same(ColumnValue.FromSlice(ValueKind.Bytes, bytes, 0, bytes.Length)));
            Assert.True(Same(ColumnValue.FromSlice(ValueKind.Geometry, bytes, 0, bytes.Length)));
            if (bytes.Length <= 255)
                Assert.True(Same(ColumnValue.FromSlice(ValueKind.Bytes, bytes, 0, bytes.Length, (ushort)rng.Next(bytes.Length, 256))));
        }
        Assert.Equal("\"YWIAAA==\"", Fast(ColumnValue.FromSlice(ValueKind.Bytes, "ab"u8.ToArray(), 0, 2, 4)));
        Assert.True(Same(ColumnValue.Null));
        Assert.Null(Fast(ColumnValue.FromEnum(1, ["x", "y"])));
        Assert.Null(Fast(ColumnValue.FromSet(5, ["a", "b", "c"])));
        var json = "{\"a\": 1}"u8.ToArray();
        Assert.Null(Fast(ColumnValue.FromSlice(ValueKind.Json, json, 0, json.Length, 45)));
    }

    [Fact]
    public void Plain_ascii_is_what_the_relaxed_encoder_leaves_as_it_is()
    {
        for (var c = 0; c < 128; c++)
        {
            var text = ((char)c).ToString();
            var unescaped = JsonEncodedText.Encode(text, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString() == text;
            Assert.True(unescaped == ColumnValueUtf8.PlainAscii.Contains((byte)c), $"character {c}");
        }
    }
}
