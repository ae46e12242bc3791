using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PluginHost.Binlog.Json;

namespace PluginHost.Tests.Binlog.Json;

public class MySqlJsonBinaryTests
{
    internal static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("|", ""));

    private static string Decode(string hex) => MySqlJsonBinary.ToJson(Hex(hex));

    // ------------------------------------------------------------ scalars

    [Fact]
    public void Empty_value_is_null()
    {
        Assert.Equal("null", MySqlJsonBinary.ToJson(ReadOnlySpan<byte>.Empty));
        var w = new ArrayBufferWriter<byte>();
        Assert.Equal(4, MySqlJsonBinary.WriteJson(ReadOnlySpan<byte>.Empty, w));
        Assert.Equal("null", Encoding.UTF8.GetString(w.WrittenSpan));
    }

    [Theory]
    [InlineData("04 00", "null")]
    [InlineData("04 01", "true")]
    [InlineData("04 02", "false")]
    [InlineData("05 01 00", "1")]
    [InlineData("05 ff ff", "-1")]
    [InlineData("05 00 80", "-32768")]
    [InlineData("05 ff 7f", "32767")]
    [InlineData("06 ff ff", "65535")]
    [InlineData("07 00 00 00 80", "-2147483648")]
    [InlineData("07 ff ff ff 7f", "2147483647")]
    [InlineData("08 ff ff ff ff", "4294967295")]
    [InlineData("09 00 00 00 00 00 00 00 80", "-9223372036854775808")]
    [InlineData("09 ff ff ff ff ff ff ff 7f", "9223372036854775807")]
    [InlineData("0a ff ff ff ff ff ff ff ff", "18446744073709551615")]
    [InlineData("0a 00 00 00 00 00 00 00 00", "0")]
    public void TopLevelLiteralsAndIntegers(string hex, string expected) => Assert.Equal(expected, Decode(hex));

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e300, "1e300")]
    [InlineData(-1e300, "-1e300")]
    [InlineData(1e15, "1e15")]
    [InlineData(1e14, "100000000000000.0")]
    [InlineData(123456789012345.0, "123456789012345.0")]
    [InlineData(1234567890123456.0, "1.234567890123456e15")]
    [InlineData(123456789012345678.0, "1.2345678901234568e17")]
    [InlineData(1e22, "1e22")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "0.00001")]
    [InlineData(1.5e-7, "0.00000015")]
    [InlineData(1e-15, "0.000000000000001")]
    [InlineData(1e-16, "1e-16")]
    [InlineData(1.25e-100, "1.25e-100")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(double.MaxValue, "1.7976931348623157e308")]
    [InlineData(double.MinValue, "-1.7976931348623157e308")]
    public void DoublesPrintLikeMySql(double value, string expected)
    {
        var bytes = new byte[9];
        bytes[0] = 0x0b;
        BitConverter.TryWriteBytes(bytes.AsSpan(1), value);
        var text = MySqlJsonBinary.ToJson(bytes);
        Assert.Equal(expected, text);
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_doubles_are_rejected(double value)
    {
        var bytes = new byte[9];
        bytes[0] = 0x0b;
        BitConverter.TryWriteBytes(bytes.AsSpan(1), value);
        Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonBinary.ToJson(bytes));
    }

    [Fact]
    public void Strings_short_long_and_with_trailing_bytes_decode()
    {
        Assert.Equal("\"hello\"", Decode("0c 05 68 65 6c 6c 6f"));
        Assert.Equal("\"\"", Decode("0c 00"));
        // 300 bytes need a two-byte length: 300 = 0b10_0101100 -> 0xac 0x02.
        var longString = new string('a', 300);
        Assert.Equal("\"" + longString + "\"", MySqlJsonBinary.ToJson([0x0c, 0xac, 0x02, .. Encoding.ASCII.GetBytes(longString)]));
        // Unused trailing bytes after the top-level value are ignored, as MySQL does.
        Assert.Equal("\"a\"", Decode("0c 01 61 ff ff"));
    }

    [Fact]
    public void String_escaping_follows_RFC_8259_and_MySQL()
    {
        byte[] raw = [(byte)'"', (byte)'\\', (byte)'/', 8, 12, 10, 13, 9, 0, 1, 0x1f, 0x7f, (byte)'x'];
        var json = MySqlJsonBinary.ToJson([0x0c, (byte)raw.Length, .. raw]);
        Assert.Equal("\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u007fx\"", json);
        Assert.Equal(Encoding.UTF8.GetString(raw), JsonDocument.Parse(json).RootElement.GetString());
    }

    [Fact]
    public void Unicode_is_passed_through_unescaped()
    {
        const string text = "héllo €𝄞 日本 \u2028";
        var utf8 = Encoding.UTF8.GetBytes(text);
        Assert.Equal("\"" + text + "\"", MySqlJsonBinary.ToJson([0x0c, (byte)utf8.Length, .. utf8]));
        // {"é":"日"}
        Assert.Equal("{\"é\":\"日\"}", Decode("00 01 00 11 00 | 0b 00 02 00 | 0c 0d 00 | c3 a9 | 03 e6 97 a5"));
    }

    // ------------------------------------------------------------ containers

    internal const string SmallObject = "00 | 02 00 16 00 | 12 00 01 00 | 13 00 01 00 | 05 01 00 | 0c 14 00 | 61 62 | 01 78";
    internal const string LargeObject = "01 | 02 00 00 00 22 00 00 00 | 1e 00 00 00 01 00 | 1f 00 00 00 01 00 | 05 01 00 00 00 | 0c 20 00 00 00 | 61 62 | 01 78";
    internal const string SmallArray = "02 | 07 00 1f 00 | 04 01 00 | 04 02 00 | 04 00 00 | 05 fe ff | 06 ff ff | 0c 19 00 | 07 1b 00 | 01 78 | 70 11 01 00";
    internal const string LargeArray = "03 | 04 00 00 00 1c 00 00 00 | 07 70 11 01 00 | 07 90 ee fe ff | 08 ff ff ff ff | 04 01 00 00 00";
    internal const string Nested = "00 | 01 00 26 00 | 0b 00 01 00 | 02 0c 00 | 61 |" +
                                   " 02 00 1a 00 | 05 01 00 | 00 0a 00 |" +
                                   " 01 00 10 00 | 0b 00 01 00 | 02 0c 00 | 62 | 00 00 04 00";

    [Fact]
    public void Small_and_large_objects()
    {
        Assert.Equal("{\"a\":1,\"b\":\"x\"}", Decode(SmallObject));
        Assert.Equal("{\"a\":1,\"b\":\"x\"}", Decode(LargeObject));
        Assert.Equal("{}", Decode("00 00 00 04 00"));
        Assert.Equal("{}", Decode("01 00 00 00 00 08 00 00 00"));
    }

    [Fact]
    public void Small_and_large_arrays_with_inlined_values()
    {
        // Small format: literals and 16-bit ints inlined; int32 stored after the header.
        Assert.Equal("[true,false,null,-2,65535,\"x\",70000]", Decode(SmallArray));
        // Large format: int32 and uint32 inlined too.
        Assert.Equal("[70000,-70000,4294967295,true]", Decode(LargeArray));
        Assert.Equal("[]", Decode("02 00 00 04 00"));
        Assert.Equal("[]", Decode("03 00 00 00 00 08 00 00 00"));
    }

    [Fact]
    public void Nested_containers() => Assert.Equal("{\"a\":[1,{\"b\":[]}]}", Decode(Nested));

    [Fact]
    public void WriteJson_matches_ToJson()
    {
        foreach (var hex in new[] { SmallObject, LargeObject, SmallArray, LargeArray, Nested })
        {
            var w = new ArrayBufferWriter<byte>();
            var n = MySqlJsonBinary.WriteJson(Hex(hex), w);
            Assert.Equal(n, w.WrittenCount);
            Assert.Equal(Decode(hex), Encoding.UTF8.GetString(w.WrittenSpan));
        }
    }

    [Fact]
    public void Large_format_is_used_when_offsets_exceed_64K()
    {
        var node = new TObject([("big", new TString(new string('z', 70_000))), ("n", new TInt(5)), ("x", new TArray([new TInt(70000), new TBool(true)]))]);
        var bytes = MySqlJsonTestEncoder.Encode(node);
        Assert.Equal(0x01, bytes[0]);
        var json = MySqlJsonBinary.ToJson(bytes);
        MySqlJsonTestEncoder.AssertMatches(node, json);
        Assert.StartsWith("{\"n\":5,\"x\":[70000,true],\"big\":\"zzz", json);
    }

    // ------------------------------------------------------------ opaque values

    [Theory]
    [InlineData("0f f6 05 05 02 80 7b 2d", "123.45")]
    [InlineData("0f f6 05 05 02 7f 84 d2", "-123.45")]
    [InlineData("0f f6 0c 14 0a 81 0d fb 38 d2 00 bc 61 4e 09", "1234567890.0123456789")]
    [InlineData("0f f6 04 04 02 80 00", "0.00")]
    [InlineData("0f f6 04 03 01 80 05", "0.5")]
    [InlineData("0f f6 07 0a 00 7f ff ff ff fe", "-1")]
    [InlineData("0f f6 07 0a 00 80 00 00 00 00", "0")]
    public void OpaqueDecimals(string hex, string expected) => Assert.Equal(expected, Decode(hex));

    [Fact]
    public void Opaque_decimals_from_the_test_encoder()
    {
        foreach (var (text, p, s) in new[] { ("99999999999999999999999999999999999.999999999999999999999999999999", 65, 30), ("-0.000000000000000000000000000001", 30, 30), ("1.5", 2, 1), ("-987654321987654321", 18, 0), ("12.340", 10, 3) })
        {
            var op = MySqlJsonTestEncoder.Decimal(text, p, s);
            Assert.Equal(text, MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(op)));
        }
    }

    [Fact]
    public void Opaque_temporals()
    {
        // Hand-computed packed DATETIME 2015-01-15 23:24:25.000123 = 0x19951f761900007b.
        Assert.Equal("\"2015-01-15 23:24:25.000123\"", Decode("0f 0c 08 7b 00 00 19 76 1f 95 19"));
        Assert.Equal("\"2015-01-15 23:24:25.000123\"", Decode("0f 07 08 7b 00 00 19 76 1f 95 19")); // TIMESTAMP
        Assert.Equal("\"2015-01-15\"", Decode("0f 0a 08 00 00 00 00 00 1e 95 19"));
        Assert.Equal("\"-838:59:59.000000\"", Decode("0f 0b 08 00 00 00 05 91 cb ff ff"));
        Assert.Equal("\"0000-00-00 00:00:00.000000\"", Decode("0f 0c 08 00 00 00 00 00 00 00 00"));

        var t = MySqlJsonTestEncoder.Temporal(11, MySqlJsonTestEncoder.PackTime(false, 12, 34, 56, 500000), "12:34:56.500000");
        Assert.Equal(t.ExpectedText, MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(t)));
        var d = MySqlJsonTestEncoder.Temporal(12, MySqlJsonTestEncoder.PackDateTime(9999, 12, 31, 23, 59, 59, 999999), "9999-12-31 23:59:59.999999");
        Assert.Equal(d.ExpectedText, MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(d)));
    }

    [Fact]
    public void Other_opaque_values_are_base64_with_MySQL_line_breaks()
    {
        Assert.Equal("\"base64:type252:AQID\"", Decode("0f fc 03 01 02 03"));
        Assert.Equal("\"base64:type16:\"", Decode("0f 10 00"));
        var data = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var b64 = Convert.ToBase64String(data);
        Assert.Equal(136, b64.Length);
        Assert.Equal($"\"base64:type15:{b64[..76]}\\n{b64[76..]}\"", MySqlJsonBinary.ToJson([0x0f, 15, 100, .. data]));
        // Exactly 57 bytes fill one line: no line break.
        var one = data[..57];
        Assert.Equal($"\"base64:type252:{Convert.ToBase64String(one)}\"", MySqlJsonBinary.ToJson([0x0f, 252, 57, .. one]));
    }

    [Fact]
    public void Opaque_var_string_is_printed_as_a_string() => Assert.Equal("\"a\\\"b\"", Decode("0f fd 03 61 22 62"));

    [Fact]
    public void Opaque_values_inside_containers()
    {
        var node = new TArray([MySqlJsonTestEncoder.Decimal("3.14", 3, 2), MySqlJsonTestEncoder.Temporal(10, MySqlJsonTestEncoder.PackDateTime(2024, 2, 29, 0, 0, 0, 0), "2024-02-29")]);
        Assert.Equal("[3.14,\"2024-02-29\"]", MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(node)));
        Assert.Equal("[3.14,\"2024-02-29\"]", MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(node, forceLarge: true)));
    }

    // ------------------------------------------------------------ round trips through the test encoder

    [Theory]
    [InlineData("{\"b\":1,\"a\":2,\"aa\":[1,2.5,\"x\",null,true,false,{}],\"\":-70000}")]
    [InlineData("[18446744073709551615,-9223372036854775808,1e300,0.1,\"\\u0001\\\"\\\\\"]")]
    [InlineData("{\"ключ\":\"значение\",\"🔑\":[\"😀\"],\"k\\u0000\":0}")]
    [InlineData("\"just a string\"")]
    [InlineData("[[[[[[[[[[[]]]]]]]]]]]")]
    public void Text_round_trips(string json)
    {
        var node = MySqlJsonTestEncoder.FromJson(json);
        MySqlJsonTestEncoder.AssertMatches(node, MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(node)));
        MySqlJsonTestEncoder.AssertMatches(node, MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode(node, forceLarge: true)));
    }

    [Fact]
    public void Keys_come_out_in_MySQL_storage_order() =>
        Assert.Equal("{\"\":4,\"a\":3,\"b\":2,\"aa\":1}", MySqlJsonBinary.ToJson(MySqlJsonTestEncoder.Encode("{\"aa\":1,\"b\":2,\"a\":3,\"\":4}")));

    [Fact]
    public void Random_documents_round_trip()
    {
        var gen = new RandomJson(12345);
        for (var i = 0; i < 2000; i++)
        {
            var node = gen.Document();
            var large = i % 3 == 0;
            var bytes = MySqlJsonTestEncoder.Encode(node, large);
            var json = MySqlJsonBinary.ToJson(bytes);
            MySqlJsonTestEncoder.AssertMatches(node, json);
        }
    }

    // ------------------------------------------------------------ malformed input

    [Fact]
    public void Every_strict_prefix_of_a_valid_document_is_rejected()
    {
        var fixtures = new List<byte[]>
        {
            Hex(SmallObject), Hex(LargeObject), Hex(SmallArray), Hex(LargeArray), Hex(Nested),
            Hex("04 01"), Hex("05 01 00"), Hex("0a ff ff ff ff ff ff ff ff"), Hex("0b 00 00 00 00 00 00 f8 3f"),
            Hex("0c 05 68 65 6c 6c 6f"), Hex("0f f6 05 05 02 80 7b 2d"), Hex("0f 0c 08 7b 00 00 19 76 1f 95 19"), Hex("0f fc 03 01 02 03"),
        };
        var gen = new RandomJson(7);
        for (var i = 0; i < 50; i++) fixtures.Add(MySqlJsonTestEncoder.Encode(gen.Document(4), i % 2 == 0));
        foreach (var doc in fixtures)
        {
            MySqlJsonBinary.ToJson(doc); // valid as a whole
            for (var len = 1; len < doc.Length; len++)
            {
                // A prefix can only be valid if the whole value ended before the cut (trailing bytes are ignored).
                var prefix = doc.AsSpan(0, len).ToArray();
                try
                {
                    MySqlJsonBinary.ToJson(prefix);
                    Assert.Fail($"prefix of {len}/{doc.Length} bytes of {Convert.ToHexString(doc)} was accepted");
                }
                catch (MySqlJsonFormatException)
                {
                }
            }
        }
    }

    [Theory]
    [InlineData("0d 00", "unknown value type 0x0d")]
    [InlineData("10", "unknown value type 0x10")]
    [InlineData("ff 00 00", "unknown value type 0xff")]
    [InlineData("04 03", "unknown literal")]
    [InlineData("02 01 00 07 00 04 07 00", "unknown literal")]
    [InlineData("02 01 00 07 00 0c ff 00", "outside its array")]
    [InlineData("02 01 00 09 00 0c 00 00 00 00", "outside its array")]
    [InlineData("02 01 00 ff 00 04 01 00", "claims 255 bytes")]
    [InlineData("02 ff 00 07 00 04 01 00", "header")]
    [InlineData("03 01 00 00 00 ff ff ff ff", "claims")]
    [InlineData("00 01 00 0c 00 | 0b 00 05 00 | 04 01 00 | 61", "outside its object")]
    [InlineData("00 01 00 0c 00 | 02 00 01 00 | 04 01 00 | 61", "outside its object")]
    [InlineData("0c 80 80 80 80 80 01", "longer than 5 bytes")]
    [InlineData("0c ff ff ff ff 7f", "exceeds 32 bits")]
    [InlineData("0c 80", "truncated")]
    [InlineData("0c 02 c3 28", "UTF-8")]
    [InlineData("0c 01 ff", "UTF-8")]
    [InlineData("00 01 00 0c 00 | 0b 00 01 00 | 04 01 00 | ff", "UTF-8")]
    [InlineData("0f f6 05 42 02 80 7b 2d", "precision")]
    [InlineData("0f f6 05 02 05 80 7b 2d", "precision")]
    [InlineData("0f f6 04 05 02 80 7b", "needs 3 bytes")]
    [InlineData("0f f6 05 05 02 80 7b 64", "out of range")]
    [InlineData("0f f6 07 0a 00 80 ff ff ff ff", "out of range")]
    [InlineData("0f f6 01 05", "precision and scale")]
    [InlineData("0f 0c 07 00 00 00 00 00 00 00", "expected 8")]
    [InlineData("0f", "truncated")]
    public void MalformedInputIsRejectedWithAClearMessage(string hex, string fragment)
    {
        var e = Assert.Throws<MySqlJsonFormatException>(() => Decode(hex));
        Assert.Contains(fragment, e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void Failed_WriteJson_writes_nothing()
    {
        var w = new ArrayBufferWriter<byte>();
        Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonBinary.WriteJson(Hex("02 02 00 0a 00 04 01 00 04 07 00"), w));
        Assert.Equal(0, w.WrittenCount);
    }

    private static byte[] NestedArrays(int depth)
    {
        // depth small arrays, each holding the next one; the innermost is empty.
        byte[] inner = [0x00, 0x00, 0x04, 0x00];
        for (var i = 1; i < depth; i++)
        {
            var size = 4 + 3 + inner.Length;
            inner = [0x01, 0x00, (byte)size, (byte)(size >> 8), 0x02, 0x07, 0x00, .. inner];
        }
        return [0x02, .. inner];
    }

    [Fact]
    public void Depth_is_limited_to_100()
    {
        Assert.Equal(new string('[', 100) + new string(']', 100), MySqlJsonBinary.ToJson(NestedArrays(100)));
        var e = Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonBinary.ToJson(NestedArrays(101)));
        Assert.Contains("100", e.Message);
        Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonBinary.ToJson(NestedArrays(5000)));
    }

    [Fact]
    public void Shared_subtrees_cannot_explode_the_output()
    {
        // Each level is an array of two entries that both point at the same child: 2^90 leaves if expanded.
        byte[] inner = [0x00, 0x00, 0x04, 0x00];
        for (var i = 1; i < 90; i++)
        {
            var size = 4 + 2 * 3 + inner.Length;
            inner = [0x02, 0x00, (byte)size, (byte)(size >> 8), 0x02, 0x0a, 0x00, 0x02, 0x0a, 0x00, .. inner];
        }
        byte[] doc = [0x02, .. inner];
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<MySqlJsonFormatException>(() => MySqlJsonBinary.ToJson(doc));
        Assert.Contains("overlap", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed}"); // guards against exponential blow-up, not speed
    }

    // ------------------------------------------------------------ fuzzing

    [Fact]
    public void Fuzzed_input_throws_only_format_exceptions_and_otherwise_yields_valid_JSON()
    {
        var gen = new RandomJson(424242);
        var r = gen.Random;
        var options = new JsonDocumentOptions { MaxDepth = 256 };
        var sw = Stopwatch.StartNew();
        int accepted = 0, rejected = 0;
        for (var i = 0; i < 30_000; i++)
        {
            var doc = MySqlJsonTestEncoder.Encode(gen.Document(4), r.Next(3) == 0);
            Mutate(doc, r, out var mutated);
            try
            {
                var json = MySqlJsonBinary.ToJson(mutated);
                using var parsed = JsonDocument.Parse(json, options);
                accepted++;
            }
            catch (MySqlJsonFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"input {Convert.ToHexString(mutated)} threw {e}");
            }
        }
        Assert.True(rejected > 1000 && accepted > 1000, $"accepted {accepted}, rejected {rejected}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {sw.Elapsed}");
    }

    private static void Mutate(byte[] doc, Random r, out byte[] result)
    {
        result = (byte[])doc.Clone();
        switch (r.Next(6))
        {
            case 0:
            case 1:
                for (var k = r.Next(1, 4); k > 0 && result.Length > 0; k--) result[r.Next(result.Length)] = (byte)r.Next(256);
                break;
            case 2:
                result = result.AsSpan(0, r.Next(result.Length + 1)).ToArray();
                break;
            case 3:
                if (result.Length > 2)
                {
                    var at = r.Next(result.Length - 1);
                    result[at] = r.Next(2) == 0 ? (byte)0xff : (byte)0;
                    result[at + 1] = r.Next(2) == 0 ? (byte)0xff : (byte)0;
                }
                break;
            case 4:
            {
                var at = r.Next(result.Length + 1);
                var extra = new byte[r.Next(1, 5)];
                r.NextBytes(extra);
                result = [.. result.AsSpan(0, at), .. extra, .. result.AsSpan(at)];
                break;
            }
            default:
                if (result.Length > 0) result[r.Next(result.Length)] ^= (byte)(1 << r.Next(8));
                break;
        }
    }
}
