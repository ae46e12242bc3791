using PluginHost.Binlog.Protocol.Commands;
using PluginHost.Binlog.Protocol.Framing;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>
/// Runs the authentication phase: sends the HandshakeResponse41 and then follows the server through
/// AuthSwitchRequest (0xFE) and AuthMoreData (0x01) packets until OK or ERR.
/// </summary>
internal static class Authenticator
{
    private const byte AuthSwitchRequest = 0xFE;
    private const byte AuthMoreData = 0x01;
    private const int MaxRounds = 16;

    /// <summary>Server errors that mean "these credentials were refused".</summary>
    private static readonly int[] CredentialErrors = [1045 /* ER_ACCESS_DENIED_ERROR */, 1698 /* ER_ACCESS_DENIED_NO_PASSWORD_ERROR */];

    /// <summary>Authenticates; returns the name of the plugin that completed the login.</summary>
    /// <param name="channel">The channel, positioned after the handshake (and SSLRequest / TLS upgrade).</param>
    /// <param name="handshake">The server handshake.</param>
    /// <param name="clientCapabilities">Capabilities to announce.</param>
    /// <param name="options">Connection options (user, password, database, key file).</param>
    /// <param name="serverPublicKeyPem">Configured server RSA public key, or null.</param>
    /// <param name="isSecureTransport">True when TLS is active.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static async Task<string> AuthenticateAsync(
        PacketChannel channel,
        ServerHandshake handshake,
        CapabilityFlags clientCapabilities,
        ConnectionOptions options,
        string? serverPublicKeyPem,
        bool isSecureTransport,
        CancellationToken cancellationToken)
    {
        var context = new AuthenticationContext(options.User, options.Password, channel.Endpoint, isSecureTransport, serverPublicKeyPem, options.AllowPublicKeyRetrieval);
        IAuthenticationPlugin plugin = AuthenticationPlugins.CreateInitial(handshake.AuthPluginName, isSecureTransport);
        byte[] initialResponse = plugin.CreateInitialResponse(context, handshake.AuthPluginData.Span);
        PacketWriter writer = channel.BeginPacket();
        HandshakeResponseWriter.WriteHandshakeResponse(writer, clientCapabilities, options.User, initialResponse, options.Database, plugin.Name);
        await channel.WritePacketAsync(writer, cancellationToken).ConfigureAwait(false);

        for (int round = 0; round < MaxRounds; round++)
        {
            ReadOnlyMemory<byte> packet = await channel.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            byte[]? response = HandleServerPacket(packet.Span, ref plugin, context, out bool completed);
            if (completed)
            {
                return plugin.Name;
            }

            if (response is not null)
            {
                await channel.WritePacketAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new MySqlProtocolException($"Authentication with {channel.Endpoint} did not finish after {MaxRounds} exchanges.");
    }

    /// <summary>Builds the exception for an ERR packet received during authentication.</summary>
    internal static MySqlException CreateLoginError(MySqlServerException error, AuthenticationContext context, string pluginName)
    {
        if (Array.IndexOf(CredentialErrors, error.ErrorCode) < 0)
        {
            return error;
        }

        string passwordHint = context.Password.Length == 0 ? "an empty password" : "the configured password";
        return new MySqlAuthenticationException(
            $"Access denied: the server refused the user name/password for {context.User}@{context.Endpoint} (tried {passwordHint} " +
            $"with {pluginName}; server error {error.ErrorCode} ({error.SqlState}): {error.ServerMessage}). " +
            "Check the configured user and password, that the account exists for the host this client connects from " +
            "(e.g. 'user'@'%' vs 'user'@'localhost'), and that it is not locked or expired.",
            context.User,
            context.Endpoint,
            pluginName,
            error);
    }

    private static byte[]? HandleServerPacket(ReadOnlySpan<byte> packet, ref IAuthenticationPlugin plugin, AuthenticationContext context, out bool completed)
    {
        completed = false;
        if (packet.IsEmpty)
        {
            throw new MySqlProtocolException($"Empty packet from {context.Endpoint} during authentication.");
        }

        switch (packet[0])
        {
            case ResponseParser.OkHeader:
                completed = true;
                return null;

            case ResponseParser.ErrorHeader:
                throw CreateLoginError(ResponseParser.ParseError(packet), context, plugin.Name);

            case AuthSwitchRequest:
                if (packet.Length == 1)
                {
                    throw context.Fail(
                        "mysql_old_password",
                        $"The server {context.Endpoint} asked for the pre-4.1 mysql_old_password authentication for user '{context.User}', " +
                        "which is insecure and not supported. Give the account a modern password hash / authentication plugin.");
                }

                var reader = new PacketReader(packet.Slice(1), PacketSource.Protocol);
                string pluginName = reader.ReadNullTerminatedString();
                ReadOnlySpan<byte> pluginData = reader.ReadRemaining();
                plugin = AuthenticationPlugins.CreateForSwitch(pluginName, context);
                return plugin.CreateInitialResponse(context, pluginData);

            case AuthMoreData:
                return plugin.ContinueAuthentication(context, packet.Slice(1));

            default:
                throw ResponseParser.Unexpected(packet, "during authentication", context.Endpoint);
        }
    }
}
