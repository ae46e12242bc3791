using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace PluginHost.Binlog.Decoding;

/// <summary>A forward-only little-endian reader over a span, with bounds checks that raise <see cref="BinlogFormatException"/>.</summary>
internal ref struct PacketReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public PacketReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public int Position { readonly get => _pos; set => _pos = value; }
    public readonly int Remaining => _data.Length - _pos;
    public readonly ReadOnlySpan<byte> Rest => _data[_pos..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Need(int n)
    {
        if ((uint)n > (uint)(_data.Length - _pos))
            throw new BinlogFormatException($"event truncated: needed {n} more bytes at offset {_pos}, {_data.Length - _pos} left");
    }

    public byte ReadByte() { Need(1); return _data[_pos++]; }
    public ushort ReadUInt16() { Need(2); var v = BinaryPrimitives.ReadUInt16LittleEndian(_data[_pos..]); _pos += 2; return v; }
    public uint ReadUInt24() { Need(3); var v = (uint)(_data[_pos] | _data[_pos + 1] << 8 | _data[_pos + 2] << 16); _pos += 3; return v; }
    public uint ReadUInt32() { Need(4); var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]); _pos += 4; return v; }
    public ulong ReadUInt48() { Need(6); var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_pos..]) | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(_data[(_pos + 4)..]) << 32; _pos += 6; return v; }
    public ulong ReadUInt64() { Need(8); var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]); _pos += 8; return v; }

    public ulong ReadUInt(int bytes)
    {
        Need(bytes);
        ulong v = 0;
        for (var i = 0; i < bytes; i++) v |= (ulong)_data[_pos + i] << (8 * i);
        _pos += bytes;
        return v;
    }

    /// <summary>Length-encoded integer (1, 3, 4 or 9 bytes).</summary>
    public ulong ReadLengthEncoded()
    {
        var b = ReadByte();
        return b switch
        {
            < 0xFB => b,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw new BinlogFormatException($"invalid length-encoded integer prefix 0x{b:X2} at offset {_pos - 1}"),
        };
    }

    public int ReadLengthEncodedInt32()
    {
        var v = ReadLengthEncoded();
        if (v > int.MaxValue) throw new BinlogFormatException($"length {v} out of range at offset {_pos}");
        return (int)v;
    }

    public ReadOnlySpan<byte> ReadBytes(int n) { Need(n); var s = _data.Slice(_pos, n); _pos += n; return s; }
    public void Skip(int n) { Need(n); _pos += n; }

    public string ReadString(int n) => Encoding.UTF8.GetString(ReadBytes(n));
    public string ReadRestString() => ReadString(Remaining);

    /// <summary>A string terminated by NUL (the NUL is consumed).</summary>
    public string ReadNullTerminatedString()
    {
        var rest = _data[_pos..];
        var i = rest.IndexOf((byte)0);
        if (i < 0) throw new BinlogFormatException($"unterminated string at offset {_pos}");
        var s = Encoding.UTF8.GetString(rest[..i]);
        _pos += i + 1;
        return s;
    }

    public string ReadLengthEncodedString() => ReadString(ReadLengthEncodedInt32());
}
