using System.Buffers.Binary;
using System.Numerics;

namespace PluginHost.Binlog.Decoding;

/// <summary>
/// Readers and writers of MySQL 8.3+'s <c>mysql::serialization</c> primitives (libs/mysql/serialization/readme.md), used
/// by GTID_TAGGED_LOG_EVENT and the tagged GTID set encoding. A variable-length integer takes 1–9 bytes, little-endian:
/// the number of trailing one bits of the first byte plus one is its length; below 9 bytes the value follows that
/// marker and a zero bit, in 9 bytes (first byte 0xFF) the 8 bytes after the first hold it whole. A signed value is
/// stored as <c>x &lt;&lt; 1</c> (x ≥ 0) or <c>(-(x + 1) &lt;&lt; 1) | 1</c>. A string is its varint length and its bytes.
/// </summary>
internal static class MySqlSerialization
{
    /// <summary>Reads an unsigned variable-length integer at <paramref name="pos"/> and moves past it.</summary>
    /// <exception cref="BinlogFormatException">The data ends inside the integer.</exception>
    public static ulong ReadUnsigned(ReadOnlySpan<byte> data, ref int pos)
    {
        if (pos >= data.Length) throw new BinlogFormatException($"serialized integer truncated at byte {pos}");
        var length = BitOperations.TrailingZeroCount(~(uint)data[pos]) + 1;
        if (length > 9) length = 9;
        if (length > data.Length - pos) throw new BinlogFormatException($"serialized integer of {length} bytes truncated at byte {pos}");
        ulong value;
        if (length == 9) value = BinaryPrimitives.ReadUInt64LittleEndian(data[(pos + 1)..]);
        else
        {
            ulong raw = 0;
            for (var i = length - 1; i >= 0; i--) raw = (raw << 8) | data[pos + i];
            value = raw >> length;
        }
        pos += length;
        return value;
    }

    /// <summary>Reads a signed variable-length integer.</summary>
    public static long ReadSigned(ReadOnlySpan<byte> data, ref int pos)
    {
        var u = ReadUnsigned(data, ref pos);
        return (u & 1) == 0 ? (long)(u >> 1) : -(long)(u >> 1) - 1;
    }

    /// <summary>Reads a string (varint length, then that many bytes) of at most <paramref name="maxLength"/> bytes.</summary>
    public static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> data, ref int pos, int maxLength, string what)
    {
        var length = ReadUnsigned(data, ref pos);
        if (length > (ulong)maxLength) throw new BinlogFormatException($"{what} of {length} bytes is longer than {maxLength}");
        if ((int)length > data.Length - pos) throw new BinlogFormatException($"{what} of {length} bytes truncated at byte {pos}");
        var s = data.Slice(pos, (int)length);
        pos += (int)length;
        return s;
    }

    /// <summary>Appends an unsigned variable-length integer.</summary>
    public static void WriteUnsigned(List<byte> output, ulong value)
    {
        var bits = 64 - BitOperations.LeadingZeroCount(value | 1);
        var length = bits > 56 ? 9 : (bits + 6) / 7; // each length n stores 7n bits when n < 9
        if (length == 9)
        {
            output.Add(0xFF);
            for (var i = 0; i < 8; i++) output.Add((byte)(value >> (8 * i)));
            return;
        }
        var raw = (value << length) | ((1UL << (length - 1)) - 1);
        for (var i = 0; i < length; i++) output.Add((byte)(raw >> (8 * i)));
    }

    /// <summary>Appends a signed variable-length integer.</summary>
    public static void WriteSigned(List<byte> output, long value) =>
        WriteUnsigned(output, value >= 0 ? (ulong)value << 1 : ((ulong)(-(value + 1)) << 1) | 1);
}
