using System.IO.Compression;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>Hand-built MariaDB compressed events: the v2 layout (types 169-171, which MariaDB 10.11 does not write) and
/// records that must be refused with their event named.</summary>
public sealed class MariaDbCompressionTests
{
    private static byte[] Record(byte[] data, int lengthBytes = 1, int algorithm = 0)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(data);
        var head = new byte[1 + lengthBytes];
        head[0] = (byte)(0x80 | algorithm << 4 | lengthBytes);
        for (var i = 0; i < lengthBytes; i++) head[lengthBytes - i] = (byte)(data.Length >> (8 * i));
        return [.. head, .. buffer.ToArray()];
    }

    private static BinlogEventDecoder Decoder()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription("10.11.19-MariaDB"));
        decoder.Decode(TableMap(7, "d", "t", [new Col(ColumnType.Long, [])]));
        return decoder;
    }

    /// <summary>Table id 7, no flags, extra data (v2 only), one column present, then the row images as given.</summary>
    private static byte[] RowsBody(bool v2, byte[] rows) =>
        [7, 0, 0, 0, 0, 0, 0, 0, .. (v2 ? new byte[] { 2, 0 } : []), 1, 0x01, .. rows];

    [Theory]
    [InlineData(BinlogEventType.MariaDbWriteRowsCompressed, true, 2)]
    [InlineData(BinlogEventType.MariaDbWriteRowsCompressedV1, false, 1)]
    [InlineData(BinlogEventType.MariaDbWriteRowsCompressedV1, false, 4)]
    public void Compressed_rows_of_either_layout_decode_to_their_rows(BinlogEventType type, bool v2, int lengthBytes)
    {
        // Two rows: null bitmap 0, then INT 42; null bitmap 0, then INT -1.
        byte[] images = [0, 42, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        var e = Assert.IsType<RowsEvent>(Decoder().Decode(Event(type, RowsBody(v2, Record(images, lengthBytes)))));
        Assert.Equal(RowChangeKind.Insert, e.Kind);
        Assert.Equal(type, e.Header.EventType);
        Assert.Equal(["42", "-1"], e.Rows.Select(r => r.After![0].ToString()));
    }

    [Theory]
    [InlineData(1, 0, 0, "unknown algorithm 1")]
    [InlineData(0, 5, 0, "5 length bytes")]
    [InlineData(0, 0, 3, "uncompresses to")]
    [InlineData(0, 0, 1_000_000, "claims")]
    public void A_record_that_cannot_be_uncompressed_is_refused_naming_the_event(int algorithm, int lengthBytes, int wrongLength, string message)
    {
        byte[] images = [0, 42, 0, 0, 0];
        var record = Record(images, 3, algorithm);
        if (lengthBytes != 0) record[0] = (byte)(record[0] & 0xF8 | lengthBytes);
        if (wrongLength != 0) (record[1], record[2], record[3]) = ((byte)(wrongLength >> 16), (byte)(wrongLength >> 8), (byte)wrongLength);
        var data = Event(BinlogEventType.MariaDbUpdateRowsCompressedV1, [7, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x01, .. record], nextPosition: 4000);
        var error = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(data));
        Assert.StartsWith($"MariaDbUpdateRowsCompressedV1 event at position {4000 - data.Length}", error.Message);
        Assert.Contains(message, error.Message);
    }
}
