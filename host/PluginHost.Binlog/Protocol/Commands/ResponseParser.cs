using PluginHost.Binlog.Protocol.Framing;

namespace PluginHost.Binlog.Protocol.Commands;

/// <summary>Parsing of the generic response packets: OK, ERR and EOF.</summary>
internal static class ResponseParser
{
    /// <summary>Header byte of an OK packet.</summary>
    public const byte OkHeader = 0x00;

    /// <summary>Header byte of an EOF packet (and of the OK packet ending a result set with CLIENT_DEPRECATE_EOF).</summary>
    public const byte EofHeader = 0xFE;

    /// <summary>Header byte of an ERR packet.</summary>
    public const byte ErrorHeader = 0xFF;

    /// <summary>True for an OK packet (0x00 header, at least 7 bytes).</summary>
    public static bool IsOk(ReadOnlySpan<byte> payload) => payload.Length >= 7 && payload[0] == OkHeader;

    /// <summary>True for an ERR packet.</summary>
    public static bool IsError(ReadOnlySpan<byte> payload) => payload.Length >= 3 && payload[0] == ErrorHeader;

    /// <summary>
    /// True for a packet that terminates a result set: a classic EOF packet or, with CLIENT_DEPRECATE_EOF, an
    /// OK packet with 0xFE header. A row can start with 0xFE only if its first value is at least 16 MiB long,
    /// which makes the payload at least 0xFFFFFF bytes.
    /// </summary>
    public static bool IsResultSetTerminator(ReadOnlySpan<byte> payload) =>
        payload.Length > 0 && payload[0] == EofHeader && payload.Length < PacketChannel.MaxPacketPayload;

    /// <summary>True for a short EOF packet (0xFE, less than 9 bytes).</summary>
    public static bool IsEof(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload.Length < 9 && payload[0] == EofHeader;

    /// <summary>Parses an OK packet (header 0x00 or 0xFE); CLIENT_PROTOCOL_41 is assumed.</summary>
    public static ExecuteResult ParseOk(ReadOnlySpan<byte> payload)
    {
        var reader = new PacketReader(payload, PacketSource.Protocol);
        reader.ReadByte();
        ulong affectedRows = reader.ReadLengthEncoded();
        ulong lastInsertId = reader.ReadLengthEncoded();
        ServerStatusFlags status = reader.Remaining >= 2 ? (ServerStatusFlags)reader.ReadUInt16() : ServerStatusFlags.None;
        ushort warnings = reader.Remaining >= 2 ? reader.ReadUInt16() : (ushort)0;
        string info = reader.IsAtEnd ? "" : System.Text.Encoding.UTF8.GetString(reader.ReadRemaining());
        return new ExecuteResult(affectedRows, lastInsertId, status, warnings, info);
    }

    /// <summary>Reads the status flags of a result-set terminator (EOF or 0xFE OK packet).</summary>
    public static ServerStatusFlags ParseTerminatorStatus(ReadOnlySpan<byte> payload, bool deprecateEof)
    {
        if (deprecateEof)
        {
            return ParseOk(payload).Status;
        }

        var reader = new PacketReader(payload, PacketSource.Protocol);
        reader.ReadByte();
        if (reader.Remaining < 4)
        {
            return ServerStatusFlags.None;
        }

        reader.ReadUInt16(); // warnings
        return (ServerStatusFlags)reader.ReadUInt16();
    }

    /// <summary>Parses an ERR packet into a <see cref="MySqlServerException"/> (with or without the '#' SQL state marker).</summary>
    public static MySqlServerException ParseError(ReadOnlySpan<byte> payload)
    {
        var reader = new PacketReader(payload, PacketSource.Protocol);
        reader.ReadByte();
        int code = reader.ReadUInt16();
        string sqlState = "HY000";
        if (!reader.IsAtEnd && reader.PeekByte() == (byte)'#' && reader.Remaining >= 6)
        {
            reader.ReadByte();
            sqlState = System.Text.Encoding.ASCII.GetString(reader.ReadBytes(5));
        }

        string message = System.Text.Encoding.UTF8.GetString(reader.ReadRemaining());
        return new MySqlServerException(code, sqlState, message);
    }

    /// <summary>Throws a protocol exception describing an unexpected packet.</summary>
    public static MySqlProtocolException Unexpected(ReadOnlySpan<byte> payload, string context, string endpoint)
    {
        string header = payload.IsEmpty ? "empty payload" : $"header 0x{payload[0]:X2}, {payload.Length} bytes";
        return new MySqlProtocolException($"Unexpected packet from {endpoint} {context} ({header}).");
    }
}
