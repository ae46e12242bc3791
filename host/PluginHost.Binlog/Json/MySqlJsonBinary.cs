using System.Buffers;
using System.Text;

namespace PluginHost.Binlog.Json;

/// <summary>
/// Decodes MySQL's binary JSON format (the value of a JSON column in a row event; <c>sql-common/json_binary.h</c>)
/// into compact JSON text, printing every value the way MySQL's own <c>CAST(… AS CHAR)</c>/<c>JSON_EXTRACT</c> does,
/// minus the blank after <c>:</c> and <c>,</c>:
/// <list type="bullet">
/// <item>object members in stored order (MySQL stores keys sorted by length, then bytes);</item>
/// <item>strings escaped per RFC 8259 (<c>\" \\ \b \f \n \r \t</c>, other controls as lowercase <c>\u00xx</c>; nothing else escaped);</item>
/// <item>doubles in shortest round-trip form, formatted like MySQL's <c>my_gcvt</c> (<c>1.0</c>, <c>0.0001</c>, <c>1e15</c>, <c>1.5e-7</c>);</item>
/// <item>DECIMAL with its exact digits and scale (<c>1.50</c>); DATE/DATETIME/TIMESTAMP/TIME as quoted strings
/// (<c>"2015-01-15"</c>, <c>"2015-01-15 23:24:25.000000"</c>, <c>"-838:59:59.000000"</c>);</item>
/// <item>other opaque values as <c>"base64:typeNN:…"</c> (line-broken every 76 characters with an escaped <c>\n</c>, as MySQL does).</item>
/// </list>
/// An empty input means JSON <c>null</c>. Malformed input throws <see cref="MySqlJsonFormatException"/>; decoding never
/// reads outside the input, nests deeper than <see cref="MaxDepth"/>, or produces more than about 16 bytes of text per
/// input byte (a bound no real document reaches; it stops crafted documents whose values share bytes from exploding).
/// </summary>
internal static class MySqlJsonBinary
{
    /// <summary>Deepest nesting of arrays/objects accepted (MySQL's JSON_DOCUMENT_MAX_DEPTH).</summary>
    public const int MaxDepth = 100;

    /// <summary>Decodes binary JSON to compact JSON text.</summary>
    /// <param name="data">The column value (without the 4-byte length prefix of the row image).</param>
    /// <returns>JSON text, e.g. <c>{"a":1,"b":[true,null]}</c>; <c>null</c> for an empty value.</returns>
    /// <exception cref="MySqlJsonFormatException">The value is malformed.</exception>
    public static string ToJson(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return "null";
        var decoder = new JsonBinaryDecoder(data);
        try
        {
            decoder.DecodeDocument();
            return Encoding.UTF8.GetString(decoder.Written);
        }
        finally
        {
            decoder.Dispose();
        }
    }

    /// <summary>Decodes binary JSON and appends the compact JSON text, UTF-8 encoded, to <paramref name="destination"/>.</summary>
    /// <param name="data">The column value (without the 4-byte length prefix of the row image).</param>
    /// <param name="destination">Receives the text; nothing is written when decoding fails.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="MySqlJsonFormatException">The value is malformed.</exception>
    public static int WriteJson(ReadOnlySpan<byte> data, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (data.IsEmpty)
        {
            destination.Write("null"u8);
            return 4;
        }
        var decoder = new JsonBinaryDecoder(data);
        try
        {
            decoder.DecodeDocument();
            var written = decoder.Written;
            destination.Write(written);
            return written.Length;
        }
        finally
        {
            decoder.Dispose();
        }
    }
}
