using System.Buffers.Binary;

namespace PluginHost.Binlog;

/// <summary>The common 19-byte header of every binlog event (v4).</summary>
public readonly record struct BinlogEventHeader(
    uint Timestamp, BinlogEventType EventType, uint ServerId, uint EventLength, uint NextPosition, ushort Flags)
{
    /// <summary>Size of the v4 header in bytes.</summary>
    public const int Size = 19;

    /// <summary>Start position of the event in its file (NextPosition − EventLength), when the position is known.</summary>
    public long Position => NextPosition == 0 ? 0 : (long)NextPosition - EventLength;

    /// <summary>Reads a header from the first 19 bytes of <paramref name="data"/>.</summary>
    public static BinlogEventHeader Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < Size) throw new BinlogFormatException($"event header needs {Size} bytes, got {data.Length}");
        return new BinlogEventHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(data),
            (BinlogEventType)data[4],
            BinaryPrimitives.ReadUInt32LittleEndian(data[5..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[9..]),
            BinaryPrimitives.ReadUInt32LittleEndian(data[13..]),
            BinaryPrimitives.ReadUInt16LittleEndian(data[17..]));
    }
}
