namespace PluginHost.Binlog.Protocol;

/// <summary>
/// One text-protocol row as raw bytes: each value is a slice of the packet, never converted to a string. The same
/// instance is reused for every row of a <see cref="MySqlRowReader"/>: its values are valid only until the next
/// <see cref="MySqlRowReader.ReadAsync"/>.
/// </summary>
public sealed class RawRow
{
    private readonly int[] _starts;
    private readonly int[] _lengths;
    private ReadOnlyMemory<byte> _packet;

    internal RawRow(int columnCount)
    {
        _starts = new int[columnCount];
        _lengths = new int[columnCount];
    }

    /// <summary>Number of values (the result's column count).</summary>
    public int Count => _starts.Length;

    /// <summary>True when value <paramref name="index"/> is SQL NULL.</summary>
    public bool IsNull(int index) => _lengths[index] < 0;

    /// <summary>The bytes of value <paramref name="index"/> (empty for NULL and for the empty string).</summary>
    public ReadOnlySpan<byte> this[int index] => _lengths[index] < 0 ? default : _packet.Span.Slice(_starts[index], _lengths[index]);

    /// <summary>The whole row packet: every value, each after its length (valid until the next read).</summary>
    public ReadOnlySpan<byte> Packet => _packet.Span;

    /// <summary>Where value <paramref name="index"/> starts in <see cref="Packet"/>.</summary>
    public int OffsetOf(int index) => _starts[index];

    /// <summary>The length of value <paramref name="index"/>; -1 for NULL.</summary>
    public int LengthOf(int index) => _lengths[index];

    /// <summary>The bytes of value <paramref name="index"/> as memory (valid until the next read).</summary>
    public ReadOnlyMemory<byte> GetMemory(int index) => _lengths[index] < 0 ? default : _packet.Slice(_starts[index], _lengths[index]);

    /// <summary>Splits a row packet into its values: a length-encoded string or 0xFB (NULL) each.</summary>
    internal void Load(ReadOnlyMemory<byte> packet)
    {
        _packet = packet;
        var span = packet.Span;
        var pos = 0;
        for (var i = 0; i < _starts.Length; i++)
        {
            if (pos >= span.Length) throw Malformed(i, span.Length);
            var first = span[pos];
            long length;
            switch (first)
            {
                case < 0xFB:
                    length = first;
                    pos += 1;
                    break;
                case 0xFB:
                    _starts[i] = pos + 1;
                    _lengths[i] = -1;
                    pos += 1;
                    continue;
                case 0xFC:
                    if (pos + 3 > span.Length) throw Malformed(i, span.Length);
                    length = span[pos + 1] | span[pos + 2] << 8;
                    pos += 3;
                    break;
                case 0xFD:
                    if (pos + 4 > span.Length) throw Malformed(i, span.Length);
                    length = span[pos + 1] | span[pos + 2] << 8 | span[pos + 3] << 16;
                    pos += 4;
                    break;
                case 0xFE:
                    if (pos + 9 > span.Length) throw Malformed(i, span.Length);
                    length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(pos + 1, 8));
                    pos += 9;
                    break;
                default:
                    throw Malformed(i, span.Length);
            }

            if (length > span.Length - pos) throw Malformed(i, span.Length);
            _starts[i] = pos;
            _lengths[i] = (int)length;
            pos += (int)length;
        }

        if (pos != span.Length) throw new MySqlProtocolException($"A text row of {span.Length} bytes has {span.Length - pos} bytes after its {_starts.Length} values.");
    }

    private MySqlProtocolException Malformed(int index, int size) =>
        new($"A text row of {size} bytes ends inside value {index + 1} of {_starts.Length}.");
}
