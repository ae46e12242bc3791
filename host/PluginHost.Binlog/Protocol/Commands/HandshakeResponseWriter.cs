using PluginHost.Binlog.Protocol.Framing;

namespace PluginHost.Binlog.Protocol.Commands;

/// <summary>Serializes the SSLRequest and HandshakeResponse41 packets.</summary>
internal static class HandshakeResponseWriter
{
    /// <summary>utf8mb4_general_ci, supported by MySQL 5.5+ and all MariaDB versions.</summary>
    public const byte Utf8Mb4GeneralCi = 45;

    /// <summary>The max packet size announced to the server (1 GiB, the largest max_allowed_packet).</summary>
    public const uint MaxPacketSize = 0x40000000;

    /// <summary>Writes the fixed 32-byte prefix shared by SSLRequest and HandshakeResponse41.</summary>
    public static void WriteSslRequest(PacketWriter writer, CapabilityFlags capabilities)
    {
        writer.WriteUInt32((uint)capabilities);
        writer.WriteUInt32(MaxPacketSize);
        writer.WriteByte(Utf8Mb4GeneralCi);
        // 19 bytes filler + 4 bytes MariaDB extended client capabilities (none requested).
        writer.WriteZeros(23);
    }

    /// <summary>Writes a HandshakeResponse41.</summary>
    /// <param name="writer">Target payload writer.</param>
    /// <param name="capabilities">Client capabilities (must include PROTOCOL_41).</param>
    /// <param name="user">User name.</param>
    /// <param name="authResponse">The first authentication plugin response.</param>
    /// <param name="database">Default database when CONNECT_WITH_DB is set.</param>
    /// <param name="authPluginName">Name of the plugin that produced <paramref name="authResponse"/>.</param>
    public static void WriteHandshakeResponse(PacketWriter writer, CapabilityFlags capabilities, string user, ReadOnlySpan<byte> authResponse, string? database, string authPluginName)
    {
        WriteSslRequest(writer, capabilities);
        writer.WriteNullTerminatedString(user);
        if ((capabilities & CapabilityFlags.PluginAuthLengthEncodedClientData) != 0)
        {
            writer.WriteLengthEncodedBytes(authResponse);
        }
        else
        {
            if (authResponse.Length > 255)
            {
                throw new MySqlProtocolException("The authentication response is too long for a server without CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA.");
            }

            writer.WriteByte((byte)authResponse.Length);
            writer.WriteBytes(authResponse);
        }

        if ((capabilities & CapabilityFlags.ConnectWithDb) != 0)
        {
            writer.WriteNullTerminatedString(database ?? "");
        }

        if ((capabilities & CapabilityFlags.PluginAuth) != 0)
        {
            writer.WriteNullTerminatedString(authPluginName);
        }
    }
}
