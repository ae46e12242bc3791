namespace PluginHost.Binlog.Protocol.Commands;

/// <summary>Parsing of text-protocol result sets: column definitions, rows and terminators.</summary>
internal static class TextResultParser
{
    /// <summary>Returns the column name (label) of a ColumnDefinition41 packet.</summary>
    public static string ParseColumnName(ReadOnlySpan<byte> packet)
    {
        var reader = new PacketReader(packet, PacketSource.Protocol);
        reader.ReadLengthEncodedBytes(); // catalog ("def")
        reader.ReadLengthEncodedBytes(); // schema
        reader.ReadLengthEncodedBytes(); // table alias
        reader.ReadLengthEncodedBytes(); // original table
        return reader.ReadLengthEncodedString();
    }

    /// <summary>Parses a ColumnDefinition41 packet.</summary>
    public static ColumnDefinition ParseColumnDefinition(ReadOnlySpan<byte> packet)
    {
        var reader = new PacketReader(packet, PacketSource.Protocol);
        reader.ReadLengthEncodedBytes(); // catalog ("def")
        string database = reader.ReadLengthEncodedString();
        string table = reader.ReadLengthEncodedString();
        reader.ReadLengthEncodedBytes(); // original table
        string name = reader.ReadLengthEncodedString();
        string originalName = reader.ReadLengthEncodedString();
        reader.ReadLengthEncoded(); // length of the fixed fields (0x0C)
        int charset = reader.ReadUInt16();
        uint length = reader.ReadUInt32();
        var type = (ColumnType)reader.ReadByte();
        var flags = (ColumnFlags)reader.ReadUInt16();
        byte decimals = reader.ReadByte();
        return new ColumnDefinition(name, originalName, table, database, charset, length, type, flags, decimals);
    }

    /// <summary>Recognizes the end of the rows (EOF, or OK with 0xFE header under CLIENT_DEPRECATE_EOF) and returns its status flags.</summary>
    public static bool TryParseTerminator(ReadOnlySpan<byte> packet, bool deprecateEof, out ServerStatusFlags status)
    {
        if (packet.Length > 0 && packet[0] == ResponseParser.ErrorHeader)
        {
            throw ResponseParser.ParseError(packet);
        }

        if (ResponseParser.IsResultSetTerminator(packet))
        {
            status = ResponseParser.ParseTerminatorStatus(packet, deprecateEof);
            return true;
        }

        status = ServerStatusFlags.None;
        return false;
    }

    /// <summary>Parses a text row: one length-encoded string or NULL (0xFB) per column.</summary>
    public static string?[] ParseRow(ReadOnlySpan<byte> packet, int columnCount)
    {
        var reader = new PacketReader(packet, PacketSource.Protocol);
        string?[] row = new string?[columnCount];
        for (int i = 0; i < columnCount; i++)
        {
            row[i] = reader.ReadLengthEncodedStringOrNull();
        }

        return row;
    }
}
