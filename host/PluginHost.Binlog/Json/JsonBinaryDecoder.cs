using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Unicode;

namespace PluginHost.Binlog.Json;

/// <summary>
/// The worker behind <see cref="MySqlJsonBinary"/>: walks one binary JSON document and writes UTF-8 JSON text
/// into a pooled buffer. Every read is bounds-checked against the enclosing container, so malformed input
/// ends in a <see cref="MySqlJsonFormatException"/>. Call <see cref="Dispose"/> to return the buffer.
/// </summary>
internal ref struct JsonBinaryDecoder
{
    internal const byte TypeSmallObject = 0x00;
    internal const byte TypeLargeObject = 0x01;
    internal const byte TypeSmallArray = 0x02;
    internal const byte TypeLargeArray = 0x03;
    internal const byte TypeLiteral = 0x04;
    internal const byte TypeInt16 = 0x05;
    internal const byte TypeUInt16 = 0x06;
    internal const byte TypeInt32 = 0x07;
    internal const byte TypeUInt32 = 0x08;
    internal const byte TypeInt64 = 0x09;
    internal const byte TypeUInt64 = 0x0a;
    internal const byte TypeDouble = 0x0b;
    internal const byte TypeString = 0x0c;
    internal const byte TypeOpaque = 0x0f;

    internal const byte LiteralNull = 0x00;
    internal const byte LiteralTrue = 0x01;
    internal const byte LiteralFalse = 0x02;

    // MySQL enum_field_types values that JSON opaque values print specially.
    internal const byte FieldTimestamp = 7;
    internal const byte FieldDate = 10;
    internal const byte FieldTime = 11;
    internal const byte FieldDateTime = 12;
    internal const byte FieldNewDecimal = 246;
    internal const byte FieldVarString = 253;

    /// <summary>Text bytes allowed per input byte (plus a constant); real documents stay far below (≤ ~6).</summary>
    private const int ExpansionLimit = 16;

    private static readonly SearchValues<byte> s_needsEscape = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\"u8);

    private readonly ReadOnlySpan<byte> _doc;
    private readonly long _limit;
    private byte[] _buf;
    private int _pos;

    internal JsonBinaryDecoder(ReadOnlySpan<byte> doc)
    {
        _doc = doc;
        _limit = (long)ExpansionLimit * doc.Length + 256;
        _buf = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(doc.Length * 2L + 16, 256, 1 << 20));
        _pos = 0;
    }

    /// <summary>The text written so far.</summary>
    internal readonly ReadOnlySpan<byte> Written => _buf.AsSpan(0, _pos);

    /// <summary>Returns the pooled buffer.</summary>
    internal void Dispose()
    {
        var b = _buf;
        _buf = null!;
        _pos = 0;
        if (b is not null) ArrayPool<byte>.Shared.Return(b);
    }

    /// <summary>Decodes the whole document: a type byte followed by the value.</summary>
    internal void DecodeDocument()
    {
        if (_doc.IsEmpty)
        {
            WriteRaw("null"u8);
            return;
        }
        WriteValue(_doc[0], 1, _doc.Length, 0);
    }

    // ---------------------------------------------------------------- values

    private void WriteValue(byte type, int start, int end, int depth)
    {
        switch (type)
        {
            case TypeSmallObject:
            case TypeLargeObject:
                WriteContainer(isObject: true, large: type == TypeLargeObject, start, end, depth);
                break;
            case TypeSmallArray:
            case TypeLargeArray:
                WriteContainer(isObject: false, large: type == TypeLargeArray, start, end, depth);
                break;
            case TypeLiteral:
                Need(start, 1, end, "literal");
                WriteLiteral(_doc[start], start);
                break;
            case TypeInt16:
                Need(start, 2, end, "int16");
                WriteInt64(BinaryPrimitives.ReadInt16LittleEndian(_doc.Slice(start)));
                break;
            case TypeUInt16:
                Need(start, 2, end, "uint16");
                WriteUInt64(BinaryPrimitives.ReadUInt16LittleEndian(_doc.Slice(start)));
                break;
            case TypeInt32:
                Need(start, 4, end, "int32");
                WriteInt64(BinaryPrimitives.ReadInt32LittleEndian(_doc.Slice(start)));
                break;
            case TypeUInt32:
                Need(start, 4, end, "uint32");
                WriteUInt64(BinaryPrimitives.ReadUInt32LittleEndian(_doc.Slice(start)));
                break;
            case TypeInt64:
                Need(start, 8, end, "int64");
                WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(_doc.Slice(start)));
                break;
            case TypeUInt64:
                Need(start, 8, end, "uint64");
                WriteUInt64(BinaryPrimitives.ReadUInt64LittleEndian(_doc.Slice(start)));
                break;
            case TypeDouble:
                Need(start, 8, end, "double");
                WriteDouble(BinaryPrimitives.ReadDoubleLittleEndian(_doc.Slice(start)), start);
                break;
            case TypeString:
            {
                var length = ReadVariableLength(start, end, out var lengthBytes);
                var dataStart = start + lengthBytes;
                Need(dataStart, length, end, "string");
                WriteString(_doc.Slice(dataStart, (int)length), dataStart);
                break;
            }
            case TypeOpaque:
            {
                Need(start, 1, end, "opaque type");
                var fieldType = _doc[start];
                var length = ReadVariableLength(start + 1, end, out var lengthBytes);
                var dataStart = start + 1 + lengthBytes;
                Need(dataStart, length, end, "opaque value");
                WriteOpaque(fieldType, _doc.Slice(dataStart, (int)length), dataStart);
                break;
            }
            default:
                throw new MySqlJsonFormatException($"unknown value type 0x{type:x2}", start);
        }
    }

    private void WriteContainer(bool isObject, bool large, int start, int end, int depth)
    {
        var kind = isObject ? "object" : "array";
        if (++depth > MySqlJsonBinary.MaxDepth)
            throw new MySqlJsonFormatException($"nesting deeper than {MySqlJsonBinary.MaxDepth} levels", start);

        var offsetSize = large ? 4 : 2;
        var available = end - start;
        if (available < 2 * offsetSize)
            throw new MySqlJsonFormatException($"{kind} header truncated: {available} bytes left, {2 * offsetSize} needed", start);

        long count = ReadOffset(start, large);
        long size = ReadOffset(start + offsetSize, large);
        if (size > available)
            throw new MySqlJsonFormatException($"{kind} claims {size} bytes but only {available} remain", start);

        var keyEntrySize = offsetSize + 2;
        var valueEntrySize = 1 + offsetSize;
        var headerSize = 2L * offsetSize + count * ((isObject ? keyEntrySize : 0) + valueEntrySize);
        if (headerSize > size)
            throw new MySqlJsonFormatException($"{kind} of {count} elements needs a {headerSize}-byte header but is {size} bytes", start);

        var containerEnd = start + (int)size;
        var n = (int)count;
        var keyEntries = start + 2 * offsetSize;
        var valueEntries = keyEntries + (isObject ? n * keyEntrySize : 0);

        WriteByte(isObject ? (byte)'{' : (byte)'[');
        for (var i = 0; i < n; i++)
        {
            if (i > 0) WriteByte((byte)',');
            if (isObject)
            {
                var keyEntry = keyEntries + i * keyEntrySize;
                long keyOffset = ReadOffset(keyEntry, large);
                int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(_doc.Slice(keyEntry + offsetSize));
                if (keyOffset < headerSize || keyOffset + keyLength > size)
                    throw new MySqlJsonFormatException(
                        $"key {i} (offset {keyOffset}, length {keyLength}) lies outside its object (header {headerSize}, size {size})", keyEntry);
                WriteString(_doc.Slice(start + (int)keyOffset, keyLength), start + (int)keyOffset);
                WriteByte((byte)':');
            }

            var valueEntry = valueEntries + i * valueEntrySize;
            var valueType = _doc[valueEntry];
            if (IsInlined(valueType, large))
            {
                WriteInlined(valueType, valueEntry + 1);
            }
            else
            {
                long valueOffset = ReadOffset(valueEntry + 1, large);
                if (valueOffset < headerSize || valueOffset >= size)
                    throw new MySqlJsonFormatException(
                        $"value {i} offset {valueOffset} lies outside its {kind} (header {headerSize}, size {size})", valueEntry);
                WriteValue(valueType, start + (int)valueOffset, containerEnd, depth);
            }
        }
        WriteByte(isObject ? (byte)'}' : (byte)']');
    }

    /// <summary>Literals and 16-bit ints (and 32-bit ints in the large format) live in the value entry itself.</summary>
    private static bool IsInlined(byte type, bool large) => type switch
    {
        TypeLiteral or TypeInt16 or TypeUInt16 => true,
        TypeInt32 or TypeUInt32 => large,
        _ => false,
    };

    private void WriteInlined(byte type, int pos)
    {
        var s = _doc.Slice(pos);
        switch (type)
        {
            case TypeLiteral: WriteLiteral(s[0], pos); break;
            case TypeInt16: WriteInt64(BinaryPrimitives.ReadInt16LittleEndian(s)); break;
            case TypeUInt16: WriteUInt64(BinaryPrimitives.ReadUInt16LittleEndian(s)); break;
            case TypeInt32: WriteInt64(BinaryPrimitives.ReadInt32LittleEndian(s)); break;
            default: WriteUInt64(BinaryPrimitives.ReadUInt32LittleEndian(s)); break;
        }
    }

    private void WriteLiteral(byte literal, int pos)
    {
        switch (literal)
        {
            case LiteralNull: WriteRaw("null"u8); break;
            case LiteralTrue: WriteRaw("true"u8); break;
            case LiteralFalse: WriteRaw("false"u8); break;
            default: throw new MySqlJsonFormatException($"unknown literal 0x{literal:x2}", pos);
        }
    }

    private void WriteOpaque(byte fieldType, scoped ReadOnlySpan<byte> data, int pos)
    {
        switch (fieldType)
        {
            case FieldNewDecimal:
            {
                Span<byte> tmp = stackalloc byte[MySqlJsonScalars.MaxDecimalTextLength];
                var n = MySqlJsonScalars.FormatDecimal(data, tmp, pos);
                WriteRaw(tmp[..n]);
                break;
            }
            case FieldDate:
            case FieldTime:
            case FieldDateTime:
            case FieldTimestamp:
            {
                if (data.Length != 8)
                    throw new MySqlJsonFormatException($"packed temporal value of field type {fieldType} has {data.Length} bytes, expected 8", pos);
                Span<byte> tmp = stackalloc byte[MySqlJsonScalars.MaxTemporalTextLength];
                var packed = BinaryPrimitives.ReadInt64LittleEndian(data);
                var n = fieldType switch
                {
                    FieldDate => MySqlJsonScalars.FormatPackedDate(packed, tmp),
                    FieldTime => MySqlJsonScalars.FormatPackedTime(packed, tmp),
                    _ => MySqlJsonScalars.FormatPackedDateTime(packed, tmp),
                };
                WriteByte((byte)'"');
                WriteRaw(tmp[..n]);
                WriteByte((byte)'"');
                break;
            }
            case FieldVarString:
                // MySQL prints strings kept in opaque values as plain JSON strings.
                WriteString(data, pos);
                break;
            default:
                WriteBase64Opaque(fieldType, data);
                break;
        }
    }

    /// <summary><c>"base64:typeNN:…"</c>, breaking the base64 text every 76 characters with an escaped newline like MySQL's base64_encode.</summary>
    private void WriteBase64Opaque(byte fieldType, scoped ReadOnlySpan<byte> data)
    {
        WriteRaw("\"base64:type"u8);
        WriteUInt64(fieldType);
        WriteByte((byte)':');
        const int lineChars = 76;
        const int lineBytes = lineChars / 4 * 3; // 57 input bytes make one full line
        var first = true;
        while (!data.IsEmpty)
        {
            if (!first) WriteRaw("\\n"u8);
            first = false;
            var chunk = data[..Math.Min(lineBytes, data.Length)];
            var dest = Reserve(lineChars);
            Base64.EncodeToUtf8(chunk, dest, out _, out var written);
            _pos += written;
            data = data[chunk.Length..];
        }
        WriteByte((byte)'"');
    }

    private void WriteDouble(double value, int pos)
    {
        if (!double.IsFinite(value))
            throw new MySqlJsonFormatException($"double is {value.ToString(CultureInfo.InvariantCulture)}, which JSON cannot hold", pos);
        var dest = Reserve(MySqlJsonScalars.MaxDoubleTextLength);
        _pos += MySqlJsonScalars.FormatDouble(value, dest);
    }

    private void WriteInt64(long value)
    {
        var dest = Reserve(20);
        value.TryFormat(dest, out var n, default, CultureInfo.InvariantCulture);
        _pos += n;
    }

    private void WriteUInt64(ulong value)
    {
        var dest = Reserve(20);
        value.TryFormat(dest, out var n, default, CultureInfo.InvariantCulture);
        _pos += n;
    }

    /// <summary>A quoted, escaped JSON string from UTF-8 bytes.</summary>
    private void WriteString(scoped ReadOnlySpan<byte> s, int pos)
    {
        if (!Utf8.IsValid(s))
            throw new MySqlJsonFormatException("string is not valid UTF-8", pos);
        WriteByte((byte)'"');
        while (true)
        {
            var i = s.IndexOfAny(s_needsEscape);
            if (i < 0)
            {
                WriteRaw(s);
                break;
            }
            WriteRaw(s[..i]);
            WriteEscaped(s[i]);
            s = s[(i + 1)..];
        }
        WriteByte((byte)'"');
    }

    private void WriteEscaped(byte c)
    {
        var dest = Reserve(6);
        dest[0] = (byte)'\\';
        byte e = c switch
        {
            (byte)'"' => (byte)'"',
            (byte)'\\' => (byte)'\\',
            (byte)'\b' => (byte)'b',
            (byte)'\f' => (byte)'f',
            (byte)'\n' => (byte)'n',
            (byte)'\r' => (byte)'r',
            (byte)'\t' => (byte)'t',
            _ => 0,
        };
        if (e != 0)
        {
            dest[1] = e;
            _pos += 2;
            return;
        }
        dest[1] = (byte)'u';
        dest[2] = (byte)'0';
        dest[3] = (byte)'0';
        dest[4] = (byte)"0123456789abcdef"[c >> 4];
        dest[5] = (byte)"0123456789abcdef"[c & 0xf];
        _pos += 6;
    }

    // ---------------------------------------------------------------- reading helpers

    private readonly uint ReadOffset(int pos, bool large) =>
        large ? BinaryPrimitives.ReadUInt32LittleEndian(_doc.Slice(pos)) : BinaryPrimitives.ReadUInt16LittleEndian(_doc.Slice(pos));

    /// <summary>MySQL's variable-length length: 7 bits per byte, high bit = more follows, at most 5 bytes, at most 2^32-1.</summary>
    private readonly long ReadVariableLength(int pos, int end, out int bytesUsed)
    {
        long value = 0;
        for (var i = 0; i < 5; i++)
        {
            if (pos + i >= end)
                throw new MySqlJsonFormatException("length field truncated", pos);
            var b = _doc[pos + i];
            value |= (long)(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (value > uint.MaxValue)
                    throw new MySqlJsonFormatException("length field exceeds 32 bits", pos);
                bytesUsed = i + 1;
                return value;
            }
        }
        throw new MySqlJsonFormatException("length field longer than 5 bytes", pos);
    }

    private static void Need(int pos, long count, int end, string what)
    {
        if (count > end - pos)
            throw new MySqlJsonFormatException($"{what} truncated: needs {count} bytes, {Math.Max(0, end - pos)} remain", pos);
    }

    // ---------------------------------------------------------------- output buffer

    private Span<byte> Reserve(int count)
    {
        if (_buf.Length - _pos < count) Grow(count);
        return _buf.AsSpan(_pos, count);
    }

    private void WriteByte(byte b)
    {
        if (_pos == _buf.Length) Grow(1);
        _buf[_pos++] = b;
    }

    private void WriteRaw(scoped ReadOnlySpan<byte> bytes)
    {
        if (_buf.Length - _pos < bytes.Length) Grow(bytes.Length);
        bytes.CopyTo(_buf.AsSpan(_pos));
        _pos += bytes.Length;
    }

    private void Grow(int count)
    {
        var needed = (long)_pos + count;
        if (needed > _limit)
            throw new MySqlJsonFormatException(
                $"decoded text would exceed {_limit} bytes for a {_doc.Length}-byte document (values overlap or repeat)");
        var size = Math.Min(Math.Max(needed, 2L * _buf.Length), Math.Max(needed, Array.MaxLength));
        if (size > Array.MaxLength)
            throw new MySqlJsonFormatException("decoded text is too large for one buffer");
        var next = ArrayPool<byte>.Shared.Rent((int)size);
        _buf.AsSpan(0, _pos).CopyTo(next);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = next;
    }
}
