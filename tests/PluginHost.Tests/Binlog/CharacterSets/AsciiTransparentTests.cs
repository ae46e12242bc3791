using System.Buffers;
using System.Text;
using System.Text.Json;
using PluginHost.Binlog.Values;

namespace PluginHost.Tests.Binlog.CharacterSets;

/// <summary>The JSON writer copies the bytes of an all-ASCII value in a charset that reads ASCII as itself (no string
/// made), and decodes every other value; both give the same text.</summary>
public sealed class AsciiTransparentTests
{
    private static string Json(ColumnValue v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            ColumnValueJson.Write(w, v);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static ColumnValue Text(byte[] bytes, int collation) =>
        ColumnValue.FromSlice(ValueKind.String, bytes, 0, bytes.Length, (ushort)collation);

    [Theory]
    [InlineData(8, true)]    // latin1_swedish_ci
    [InlineData(13, true)]   // sjis_japanese_ci
    [InlineData(28, true)]   // gbk_chinese_ci
    [InlineData(7, true)]    // koi8r_general_ci
    [InlineData(35, false)]  // ucs2_general_ci
    [InlineData(54, false)]  // utf16_general_ci
    [InlineData(60, false)]  // utf32_general_ci
    [InlineData(63, false)]  // binary
    public void Charsets_that_read_ascii_bytes_as_themselves_are_known(int collation, bool expected) =>
        Assert.Equal(expected, Charsets.IsAsciiTransparent(collation));

    [Theory]
    [InlineData(8, new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x22 }, "\"café\\\"\"")]
    [InlineData(8, new byte[] { 0x61, 0x5C, 0x0A, 0x22 }, "\"a\\\\\\n\\\"\"")]
    [InlineData(13, new byte[] { 0x5C, 0x41 }, "\"\\\\A\"")]
    [InlineData(35, new byte[] { 0x00, 0x41 }, "\"A\"")]
    public void Ascii_and_other_values_write_as_their_decoded_text(int collation, byte[] bytes, string json)
    {
        var v = Text(bytes, collation);
        Assert.Equal(json, Json(v));
        Assert.Equal(JsonSerializer.Serialize(v.AsString(), new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), Json(v));
    }
}
