using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using PluginHost.Binlog.Values;

namespace PluginHost.Cli;

/// <summary>
/// What <see cref="RowJsonWriter"/> leaves to System.Text.Json (loaded only when a file needs it): values
/// <see cref="ColumnValueUtf8"/> does not write, written by <see cref="ColumnValueJson"/>, and names beyond plain ASCII.
/// </summary>
internal sealed class JsonFallback
{
    /// <summary>The encoder of the event JSON (the sinks' too): only what JSON requires is escaped.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;

    public JsonFallback() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = Encoder });

    /// <summary>The JSON of one value (valid until the next call).</summary>
    public ReadOnlySpan<byte> Write(in ColumnValue value)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        ColumnValueJson.Write(_writer, value);
        _writer.Flush();
        return _buffer.WrittenSpan;
    }

    /// <summary>A string as a quoted JSON string, followed by <paramref name="after"/> unless it is 0.</summary>
    public static byte[] Quote(string text, byte after)
    {
        var encoded = JsonEncodedText.Encode(text, Encoder).EncodedUtf8Bytes;
        var quoted = new byte[encoded.Length + (after == 0 ? 2 : 3)];
        quoted[0] = quoted[encoded.Length + 1] = (byte)'"';
        encoded.CopyTo(quoted.AsSpan(1));
        if (after != 0) quoted[^1] = after;
        return quoted;
    }
}
