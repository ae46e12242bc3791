using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using PluginHost.Binlog.Protocol;

namespace PluginHost.Binlog;

/// <summary>Where a packet comes from, which decides what a malformed read raises.</summary>
internal enum PacketSource : byte
{
    /// <summary>A binlog event, from a file or the replication stream: <see cref="BinlogFormatException"/> (the data is
    /// corrupt; reading it again will not help).</summary>
    BinlogEvent,
    /// <summary>A client/server protocol payload: <see cref="MySqlProtocolException"/> (the connection is unusable; the
    /// client reconnects).</summary>
    Protocol,
}

/// <summary>
/// A forward-only little-endian reader over one packet (a binlog event or a protocol payload): fixed-size and
/// length-encoded integers, strings and byte runs, with bounds checks that raise the exception of its <see cref="PacketSource"/>.
/// </summary>
internal ref struct PacketReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly PacketSource _source;
    private int _pos;

    public PacketReader(ReadOnlySpan<byte> data, PacketSource source = PacketSource.BinlogEvent)
    {
        _data = data;
        _source = source;
        _pos = 0;
    }

    public readonly int Position => _pos;
    public readonly int Remaining => _data.Length - _pos;
    public readonly bool IsAtEnd => _pos >= _data.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int n)
    {
        if ((uint)n > (uint)(_data.Length - _pos)) throw Truncated(n);
    }

    public readonly byte PeekByte() { Need(1); return _data[_pos]; }
    public byte ReadByte() { Need(1); return _data[_pos++]; }
    public ushort ReadUInt16() { Need(2); var v = BinaryPrimitives.ReadUInt16LittleEndian(_data[_pos..]); _pos += 2; return v; }
    public uint ReadUInt24() { Need(3); var v = (uint)(_data[_pos] | _data[_pos + 1] << 8 | _data[_pos + 2] << 16); _pos += 3; return v; }
    public uint ReadUInt32() { Need(4); var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]); _pos += 4; return v; }
    public ulong ReadUInt48() { Need(6); var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]) | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(_data[(_pos + 4)..]) << 32; _pos += 6; return v; }
    public ulong ReadUInt64() { Need(8); var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]); _pos += 8; return v; }

    /// <summary>A little-endian integer of <paramref name="bytes"/> bytes (at most 8).</summary>
    public ulong ReadUInt(int bytes)
    {
        Need(bytes);
        ulong v = 0;
        for (var i = 0; i < bytes; i++) v |= (ulong)_data[_pos + i] << (8 * i);
        _pos += bytes;
        return v;
    }

    /// <summary>Length-encoded integer (1, 3, 4 or 9 bytes); the NULL marker 0xFB is malformed here.</summary>
    public ulong ReadLengthEncoded()
    {
        var b = ReadByte();
        return b switch
        {
            < 0xFB => b,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw Malformed($"invalid length-encoded integer prefix 0x{b:X2} at offset {_pos - 1}"),
        };
    }

    public int ReadLengthEncodedInt32()
    {
        var v = ReadLengthEncoded();
        if (v > int.MaxValue) throw Malformed($"length {v} out of range at offset {_pos}");
        return (int)v;
    }

    public ReadOnlySpan<byte> ReadBytes(int n) { Need(n); var s = _data.Slice(_pos, n); _pos += n; return s; }
    public void Skip(int n) { Need(n); _pos += n; }

    /// <summary>Everything that is left (consumed).</summary>
    public ReadOnlySpan<byte> ReadRemaining() { var s = _data[_pos..]; _pos = _data.Length; return s; }

    public ReadOnlySpan<byte> ReadLengthEncodedBytes() => ReadBytes(ReadLengthEncodedInt32());

    public string ReadString(int n) => Encoding.UTF8.GetString(ReadBytes(n));
    public string ReadRestString() => ReadString(Remaining);
    public string ReadLengthEncodedString() => ReadString(ReadLengthEncodedInt32());

    /// <summary>A length-encoded string, or null for the NULL marker 0xFB (a column of a text result row).</summary>
    public string? ReadLengthEncodedStringOrNull()
    {
        if (PeekByte() != 0xFB) return ReadLengthEncodedString();
        _pos++;
        return null;
    }

    /// <summary>A string up to the next NUL (consumed), or to the end when there is none.</summary>
    public string ReadNullTerminatedString()
    {
        var rest = _data[_pos..];
        var i = rest.IndexOf((byte)0);
        if (i < 0) return Encoding.UTF8.GetString(ReadRemaining());
        _pos += i + 1;
        return Encoding.UTF8.GetString(rest[..i]);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly Exception Truncated(int n) =>
        Malformed($"truncated: needed {n} more byte(s) at offset {_pos}, {_data.Length - _pos} left");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly Exception Malformed(string detail) => _source == PacketSource.Protocol
        ? new MySqlProtocolException($"Malformed packet: {detail}.")
        : new BinlogFormatException(detail);
}
