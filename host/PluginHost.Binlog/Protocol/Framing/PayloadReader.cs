using System.Buffers.Binary;
using System.Text;

namespace PluginHost.Binlog.Protocol.Framing;

/// <summary>
/// Forward-only reader of protocol primitives (little-endian integers, length-encoded integers and
/// strings, NUL-terminated strings) over one packet payload. Out-of-range reads raise
/// <see cref="MySqlProtocolException"/>.
/// </summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Creates a reader positioned at the start of <paramref name="data"/>.</summary>
    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Current offset in the payload.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>True when everything has been read.</summary>
    public readonly bool IsAtEnd => _position >= _data.Length;

    /// <summary>Returns the next byte without consuming it.</summary>
    public readonly byte PeekByte()
    {
        Ensure(1);
        return _data[_position];
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte()
    {
        Ensure(1);
        return _data[_position++];
    }

    /// <summary>Reads a 2-byte little-endian integer.</summary>
    public ushort ReadUInt16()
    {
        Ensure(2);
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(_data.Slice(_position));
        _position += 2;
        return value;
    }

    /// <summary>Reads a 3-byte little-endian integer.</summary>
    public uint ReadUInt24()
    {
        Ensure(3);
        uint value = (uint)(_data[_position] | (_data[_position + 1] << 8) | (_data[_position + 2] << 16));
        _position += 3;
        return value;
    }

    /// <summary>Reads a 4-byte little-endian integer.</summary>
    public uint ReadUInt32()
    {
        Ensure(4);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_data.Slice(_position));
        _position += 4;
        return value;
    }

    /// <summary>Reads an 8-byte little-endian integer.</summary>
    public ulong ReadUInt64()
    {
        Ensure(8);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_position));
        _position += 8;
        return value;
    }

    /// <summary>Reads a length-encoded integer (0xFB, the NULL marker, is rejected).</summary>
    public ulong ReadLengthEncodedInteger() =>
        ReadLengthEncodedIntegerOrNull() ?? throw new MySqlProtocolException($"Malformed packet: unexpected NULL (0xFB) at offset {_position - 1}.");

    /// <summary>Reads a length-encoded integer; returns null for the NULL marker 0xFB.</summary>
    public ulong? ReadLengthEncodedIntegerOrNull()
    {
        byte first = ReadByte();
        switch (first)
        {
            case < 0xFB:
                return first;
            case 0xFB:
                return null;
            case 0xFC:
                return ReadUInt16();
            case 0xFD:
                return ReadUInt24();
            case 0xFE:
                return ReadUInt64();
            default:
                throw new MySqlProtocolException($"Malformed packet: invalid length-encoded integer prefix 0xFF at offset {_position - 1}.");
        }
    }

    /// <summary>Reads <paramref name="count"/> raw bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw new MySqlProtocolException($"Malformed packet: negative length {count}.");
        }

        Ensure(count);
        ReadOnlySpan<byte> value = _data.Slice(_position, count);
        _position += count;
        return value;
    }

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    public void Skip(int count) => ReadBytes(count);

    /// <summary>Reads a length-encoded byte string.</summary>
    public ReadOnlySpan<byte> ReadLengthEncodedBytes()
    {
        ulong length = ReadLengthEncodedInteger();
        if (length > (ulong)Remaining)
        {
            throw new MySqlProtocolException($"Malformed packet: length-encoded string of {length} bytes at offset {_position} exceeds the {Remaining} remaining bytes.");
        }

        return ReadBytes((int)length);
    }

    /// <summary>Reads a length-encoded UTF-8 string.</summary>
    public string ReadLengthEncodedString() => Encoding.UTF8.GetString(ReadLengthEncodedBytes());

    /// <summary>Reads a length-encoded UTF-8 string, or null for the NULL marker 0xFB.</summary>
    public string? ReadLengthEncodedStringOrNull()
    {
        if (PeekByte() == 0xFB)
        {
            _position++;
            return null;
        }

        return ReadLengthEncodedString();
    }

    /// <summary>Reads bytes up to (not including) the next NUL, consuming the NUL; reads to the end when there is none.</summary>
    public ReadOnlySpan<byte> ReadNullTerminatedBytes()
    {
        ReadOnlySpan<byte> rest = _data.Slice(_position);
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            _position = _data.Length;
            return rest;
        }

        _position += nul + 1;
        return rest.Slice(0, nul);
    }

    /// <summary>Reads a NUL-terminated UTF-8 string (to the end of the payload when there is no NUL).</summary>
    public string ReadNullTerminatedString() => Encoding.UTF8.GetString(ReadNullTerminatedBytes());

    /// <summary>Reads everything that is left.</summary>
    public ReadOnlySpan<byte> ReadRemaining()
    {
        ReadOnlySpan<byte> rest = _data.Slice(_position);
        _position = _data.Length;
        return rest;
    }

    private readonly void Ensure(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new MySqlProtocolException($"Malformed packet: needed {count} more byte(s) at offset {_position} of a {_data.Length}-byte payload.");
        }
    }
}
