using System.Text;

namespace PluginHost.Binlog.Protocol;

/// <summary>The server's initial handshake packet (protocol version 10).</summary>
public sealed class ServerHandshake
{
    private const string MariaDbReplicationPrefix = "5.5.5-";

    private ServerHandshake()
    {
    }

    /// <summary>Protocol version, always 10.</summary>
    public byte ProtocolVersion { get; private init; }

    /// <summary>The server version string exactly as sent (MariaDB prefixes it with "5.5.5-").</summary>
    public string ServerVersion { get; private init; } = "";

    /// <summary>The numeric server version, e.g. 10.11.6 or 8.0.36 (the MariaDB "5.5.5-" prefix is skipped); null if unparsable.</summary>
    public Version? Version { get; private init; }

    /// <summary>True for MariaDB servers (version string contains "-MariaDB" or extended capabilities are present).</summary>
    public bool IsMariaDb { get; private init; }

    /// <summary>The server's connection (thread) id.</summary>
    public uint ConnectionId { get; private init; }

    /// <summary>The server's standard capability flags.</summary>
    public CapabilityFlags Capabilities { get; private init; }

    /// <summary>MariaDB extended capabilities (MariaDB 10.2+), <see cref="MariaDbCapabilityFlags.None"/> otherwise.</summary>
    public MariaDbCapabilityFlags MariaDbCapabilities { get; private init; }

    /// <summary>The server's default collation id.</summary>
    public byte CharacterSet { get; private init; }

    /// <summary>Server status flags.</summary>
    public ServerStatusFlags StatusFlags { get; private init; }

    /// <summary>The authentication scramble: part 1 (8 bytes) + part 2 (normally 12 bytes), without the trailing NUL.</summary>
    public ReadOnlyMemory<byte> AuthPluginData { get; private init; }

    /// <summary>The server's default authentication plugin, e.g. "mysql_native_password"; null when the server lacks CLIENT_PLUGIN_AUTH.</summary>
    public string? AuthPluginName { get; private init; }

    /// <summary>Parses a handshake v10 payload.</summary>
    /// <exception cref="MySqlProtocolException">Not a v10 handshake or malformed.</exception>
    internal static ServerHandshake Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new PacketReader(payload, PacketSource.Protocol);
        byte protocolVersion = reader.ReadByte();
        if (protocolVersion != 10)
        {
            throw new MySqlProtocolException($"Unsupported handshake protocol version {protocolVersion} (only version 10, MySQL 4.1+ / MariaDB, is supported).");
        }

        string serverVersion = reader.ReadNullTerminatedString();
        uint connectionId = reader.ReadUInt32();
        ReadOnlySpan<byte> scramble1 = reader.ReadBytes(8);
        reader.Skip(1);
        uint capabilities = reader.ReadUInt16();
        byte charset = 0;
        ushort status = 0;
        uint mariaDbCapabilities = 0;
        byte authDataLength = 0;
        ReadOnlySpan<byte> scramble2 = default;
        string? pluginName = null;
        if (!reader.IsAtEnd)
        {
            charset = reader.ReadByte();
            status = reader.ReadUInt16();
            capabilities |= (uint)reader.ReadUInt16() << 16;
            authDataLength = reader.ReadByte();
            reader.Skip(6);
            uint filler = reader.ReadUInt32();
            if ((capabilities & (uint)CapabilityFlags.LongPassword) == 0)
            {
                // MariaDB 10.2+: CLIENT_MYSQL cleared, the last filler bytes carry extended capabilities.
                mariaDbCapabilities = filler;
            }

            if ((capabilities & (uint)CapabilityFlags.SecureConnection) != 0)
            {
                int part2Length = Math.Max(13, authDataLength - 8);
                part2Length = Math.Min(part2Length, reader.Remaining);
                scramble2 = reader.ReadBytes(part2Length);
                if (!scramble2.IsEmpty && scramble2[^1] == 0)
                {
                    scramble2 = scramble2.Slice(0, scramble2.Length - 1); // trailing NUL terminator
                }
            }

            if ((capabilities & (uint)CapabilityFlags.PluginAuth) != 0 && !reader.IsAtEnd)
            {
                pluginName = reader.ReadNullTerminatedString();
            }
        }

        byte[] scramble = new byte[scramble1.Length + scramble2.Length];
        scramble1.CopyTo(scramble);
        scramble2.CopyTo(scramble.AsSpan(scramble1.Length));

        bool isMariaDb = serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) || mariaDbCapabilities != 0;
        return new ServerHandshake
        {
            ProtocolVersion = protocolVersion,
            ServerVersion = serverVersion,
            Version = ParseVersion(serverVersion, isMariaDb),
            IsMariaDb = isMariaDb,
            ConnectionId = connectionId,
            Capabilities = (CapabilityFlags)capabilities,
            MariaDbCapabilities = (MariaDbCapabilityFlags)mariaDbCapabilities,
            CharacterSet = charset,
            StatusFlags = (ServerStatusFlags)status,
            AuthPluginData = scramble,
            AuthPluginName = string.IsNullOrEmpty(pluginName) ? null : pluginName,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{ServerVersion} (connection id {ConnectionId}, {(IsMariaDb ? "MariaDB" : "MySQL")})";

    private static Version? ParseVersion(string serverVersion, bool isMariaDb)
    {
        string text = serverVersion;
        if (isMariaDb && text.StartsWith(MariaDbReplicationPrefix, StringComparison.Ordinal))
        {
            text = text.Substring(MariaDbReplicationPrefix.Length);
        }

        var builder = new StringBuilder();
        foreach (char c in text)
        {
            if (char.IsAsciiDigit(c) || c == '.')
            {
                builder.Append(c);
            }
            else
            {
                break;
            }
        }

        return System.Version.TryParse(builder.ToString().TrimEnd('.'), out Version? version) ? version : null;
    }
}
