using System.IO.Compression;

namespace PluginHost.Binlog.Decoding;

/// <summary>
/// The compressed record of MariaDB's compressed events (<c>log_bin_compress=ON</c>): the query text of
/// QUERY_COMPRESSED_EVENT, the row images of the *_ROWS_COMPRESSED events. One header byte (bit 7 set; bits 4-6 the
/// algorithm, 0 = zlib; bits 0-2 how many bytes the uncompressed length takes), that length big-endian, then zlib data
/// (MariaDB's log_event.cc, binlog_buf_uncompress).
/// </summary>
internal static class MariaDbCompression
{
    /// <summary>Uncompresses one record; a malformed one is a <see cref="BinlogFormatException"/>.</summary>
    public static byte[] Uncompress(ReadOnlySpan<byte> record)
    {
        if (record.IsEmpty) throw new BinlogFormatException("compressed record is empty");
        var head = record[0];
        if ((head & 0x80) == 0) throw new BinlogFormatException($"compressed record header 0x{head:X2} lacks its compressed flag");
        var algorithm = (head >> 4) & 0x07;
        if (algorithm != 0) throw new BinlogFormatException($"compressed record uses unknown algorithm {algorithm} (only 0, zlib, exists)");
        var lengthBytes = head & 0x07;
        if (lengthBytes is < 1 or > 4) throw new BinlogFormatException($"compressed record header gives {lengthBytes} length bytes (1-4)");
        if (record.Length < 1 + lengthBytes) throw new BinlogFormatException("compressed record is truncated in its length");
        long length = 0;
        for (var i = 1; i <= lengthBytes; i++) length = length << 8 | record[i];
        var data = record[(1 + lengthBytes)..];
        // zlib expands at most ~1032 times; a larger claim is a corrupt length, refused before it becomes an allocation.
        if (length > 1032L * Math.Max(data.Length, 16) || length > Array.MaxLength)
            throw new BinlogFormatException($"compressed record of {data.Length} bytes claims {length} uncompressed bytes");
        var result = new byte[length];
        try
        {
            using var input = new MemoryStream(data.ToArray(), writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            var read = 0;
            while (read < result.Length)
            {
                var n = zlib.Read(result, read, result.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read != result.Length || zlib.ReadByte() != -1)
                throw new BinlogFormatException($"compressed record uncompresses to {(read != result.Length ? read : "more than " + read)} bytes, its header says {length}");
        }
        catch (InvalidDataException e)
        {
            throw new BinlogFormatException($"compressed record does not uncompress (zlib): {e.Message}", e);
        }
        return result;
    }
}
