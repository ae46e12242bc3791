using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PluginHost.Binlog.Protocol.Framing;

/// <summary>
/// Builds one outgoing payload in a pooled buffer. The first <see cref="HeaderSize"/> bytes of the buffer
/// are reserved for the packet header so that <see cref="PacketChannel"/> can send a packet with a single
/// write and no copy.
/// </summary>
internal sealed class PacketWriter : IDisposable
{
    /// <summary>Size of the packet header (3-byte length + sequence id).</summary>
    public const int HeaderSize = 4;

    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a writer with a pooled buffer of at least <paramref name="initialCapacity"/> bytes.</summary>
    public PacketWriter(int initialCapacity = 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 64));
        _length = HeaderSize;
    }

    /// <summary>Number of payload bytes written so far.</summary>
    public int PayloadLength => _length - HeaderSize;

    /// <summary>The written payload.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(HeaderSize, PayloadLength);

    /// <summary>The underlying buffer: header space at [0, 4) followed by the payload.</summary>
    internal byte[] Buffer => _buffer;

    /// <summary>Discards the payload, keeping the buffer.</summary>
    public void Reset() => _length = HeaderSize;

    /// <summary>Appends one byte.</summary>
    public void WriteByte(byte value)
    {
        EnsureCapacity(1);
        _buffer[_length++] = value;
    }

    /// <summary>Appends a 2-byte little-endian integer.</summary>
    public void WriteUInt16(ushort value)
    {
        EnsureCapacity(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    /// <summary>Appends a 3-byte little-endian integer.</summary>
    public void WriteUInt24(uint value)
    {
        EnsureCapacity(3);
        _buffer[_length] = (byte)value;
        _buffer[_length + 1] = (byte)(value >> 8);
        _buffer[_length + 2] = (byte)(value >> 16);
        _length += 3;
    }

    /// <summary>Appends a 4-byte little-endian integer.</summary>
    public void WriteUInt32(uint value)
    {
        EnsureCapacity(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    /// <summary>Appends an 8-byte little-endian integer.</summary>
    public void WriteUInt64(ulong value)
    {
        EnsureCapacity(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    /// <summary>Appends a length-encoded integer.</summary>
    public void WriteLengthEncodedInteger(ulong value)
    {
        if (value < 0xFB)
        {
            WriteByte((byte)value);
        }
        else if (value <= 0xFFFF)
        {
            WriteByte(0xFC);
            WriteUInt16((ushort)value);
        }
        else if (value <= 0xFFFFFF)
        {
            WriteByte(0xFD);
            WriteUInt24((uint)value);
        }
        else
        {
            WriteByte(0xFE);
            WriteUInt64(value);
        }
    }

    /// <summary>Appends raw bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        EnsureCapacity(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Appends <paramref name="count"/> zero bytes.</summary>
    public void WriteZeros(int count)
    {
        EnsureCapacity(count);
        _buffer.AsSpan(_length, count).Clear();
        _length += count;
    }

    /// <summary>Appends a length-encoded byte string.</summary>
    public void WriteLengthEncodedBytes(ReadOnlySpan<byte> value)
    {
        WriteLengthEncodedInteger((ulong)value.Length);
        WriteBytes(value);
    }

    /// <summary>Appends a string as UTF-8 without terminator or length.</summary>
    /// <returns>The number of bytes written.</returns>
    public int WriteString(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        EnsureCapacity(count);
        Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        _length += count;
        return count;
    }

    /// <summary>Appends a string as UTF-8 followed by a NUL byte.</summary>
    public void WriteNullTerminatedString(string value)
    {
        WriteString(value);
        WriteByte(0);
    }

    /// <summary>Appends a string as UTF-8 preceded by a one-byte length (e.g. COM_REGISTER_SLAVE fields).</summary>
    public void WriteByteLengthString(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        if (count > 255)
        {
            throw new ArgumentException($"Value is longer than 255 bytes: '{value}'.", nameof(value));
        }

        WriteByte((byte)count);
        WriteString(value);
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _length = HeaderSize;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void EnsureCapacity(int additional)
    {
        int required = _length + additional;
        if (required <= _buffer.Length)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        int newSize = (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, required));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
