using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Values;
using PluginHost.Schema;
using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

/// <summary>
/// MariaDB text JSON values (a LONGTEXT column the schema marks as JSON): the event JSON fast path
/// (<see cref="ColumnValueJson"/>) embeds the document, byte for byte as the sink path (<see cref="ChangeEventFactory"/>
/// JsonNode written by <see cref="ChangeEventJson"/>) does; text that is not JSON stays a string on both paths.
/// </summary>
public sealed class TextJsonValueTests
{
    private const int Utf8mb4Bin = 46;
    private const int Latin1Swedish = 8;

    [Theory]
    [InlineData("{\"a\": [1, \"é\"]}", "{\"a\":[1,\"é\"]}")]
    [InlineData("  [1, 2.50, -3e10, 12345678901234567890123, \"中文 😀\"] ", "[1,2.50,-3e10,12345678901234567890123,\"中文 \\uD83D\\uDE00\"]")]
    [InlineData("{\"nested\": {\"k\": [true, false, null]}, \"s\": \"q\\\"\\\\\\n\\u00e9\\ud83d\\ude00\"}", "{\"nested\":{\"k\":[true,false,null]},\"s\":\"q\\\"\\\\\\né\\uD83D\\uDE00\"}")]
    [InlineData("\"just a string\"", "\"just a string\"")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("true", "true")]
    [InlineData("null", "null")]
    [InlineData("{}", "{}")]
    [InlineData("[]", "[]")]
    [InlineData("{\"<tag>\": \"a&b'c\"}", "{\"<tag>\":\"a&b'c\"}")]
    // Supplementary characters come out as \u escapes, as the writer's encoder does for every string.
    public void Text_json_is_embedded_compact_and_identical_on_both_paths(string stored, string expected)
    {
        var v = TextJson(stored, Utf8mb4Bin);
        Assert.Equal(ValueKind.Json, v.Kind);
        Assert.True(v.IsJsonText);
        Assert.Equal(stored, v.JsonText());

        var fast = FastPath(v);
        Assert.Equal(expected, fast);
        Assert.Equal(fast, SdkPath(v));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored), JsonNode.Parse(fast)));

        var sdk = ChangeEventFactory.ToObject(v);
        if (stored == "null") Assert.Null(sdk);
        else Assert.IsAssignableFrom<JsonNode>(sdk);
    }

    [Theory]
    [InlineData("{\"a\": 1")]
    [InlineData("not json")]
    [InlineData("[1] [2]")]
    [InlineData("")]
    [InlineData("{'a': 1}")]
    [InlineData("{\"a\": 1, \"b\": {\"a\": 2, \"a\": 3}}")] // json_valid accepts duplicate names; a JsonNode cannot hold them
    public void Text_that_is_not_json_falls_back_to_a_string(string stored)
    {
        var v = TextJson(stored, Utf8mb4Bin);
        var fast = FastPath(v);
        Assert.Equal(JsonSerializer.Serialize(stored, new JsonSerializerOptions { Encoder = ChangeEventJson.WriterOptions.Encoder }), fast);
        Assert.Equal(fast, SdkPath(v));
        Assert.Equal(stored, ChangeEventFactory.ToObject(v));
    }

    [Fact]
    public void Text_json_in_a_non_utf8_charset_is_decoded_first()
    {
        var stored = "{\"caf\u00e9\": \"\u00e9t\u00e9\"}";
        var bytes = Encoding.Latin1.GetBytes(stored);
        var v = ColumnValue.FromSlice(ValueKind.Json, bytes, 0, bytes.Length, Latin1Swedish);
        Assert.Equal(stored, v.JsonText());
        Assert.Equal("{\"café\":\"été\"}", FastPath(v));
        Assert.Equal(FastPath(v), SdkPath(v));
    }

    [Fact]
    public void Binary_json_values_are_not_text_json()
    {
        // MySQL binary JSON keeps Aux 0; a String value is not JSON at all.
        var literal = new byte[] { 0x04, 0x01 }; // binary JSON literal true
        var binary = ColumnValue.FromSlice(ValueKind.Json, literal, 0, literal.Length);
        Assert.False(binary.IsJsonText);
        Assert.Equal("true", binary.JsonText());
        Assert.False(ColumnValue.FromString("{}").IsJsonText);
        Assert.Equal("\"{}\"", FastPath(ColumnValue.FromString("{}")));
    }

    private static ColumnValue TextJson(string text, int collation)
    {
        // Padded on both sides: the value is a slice of a larger event buffer.
        var payload = Encoding.UTF8.GetBytes(text);
        var buffer = new byte[payload.Length + 6];
        payload.CopyTo(buffer, 3);
        return ColumnValue.FromSlice(ValueKind.Json, buffer, 3, payload.Length, (ushort)collation);
    }

    /// <summary>The value as <c>pluginhost decode</c> writes it, inside an object as in a row image.</summary>
    private static string FastPath(ColumnValue v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("j");
            ColumnValueJson.Write(w, v);
            w.WritePropertyName("next");
            w.WriteNumberValue(1);
            w.WriteEndObject();
        }
        return Inner(buffer.WrittenSpan);
    }

    /// <summary>The value as sinks write it: the factory's .NET value through ChangeEventJson.</summary>
    private static string SdkPath(ColumnValue v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("j");
            ChangeEventJson.WriteValue(w, ChangeEventFactory.ToObject(v), new ColumnInfo("j", ColumnKind.Json));
            w.WritePropertyName("next");
            w.WriteNumberValue(1);
            w.WriteEndObject();
        }
        return Inner(buffer.WrittenSpan);
    }

    private static string Inner(ReadOnlySpan<byte> json)
    {
        var s = Encoding.UTF8.GetString(json);
        Assert.StartsWith("{\"j\":", s);
        Assert.EndsWith(",\"next\":1}", s);
        return s["{\"j\":".Length..^",\"next\":1}".Length];
    }
}
