using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginHost.Binlog.Protocol.Authentication;
using PluginHost.Binlog.Protocol.Commands;
using PluginHost.Binlog.Protocol.Framing;
using PluginHost.Binlog.Protocol.Transport;

namespace PluginHost.Binlog.Protocol;

/// <summary>Connection set-up: option checks, the server greeting, TLS and capability negotiation.</summary>
public sealed partial class MySqlProtocolConnection
{
    private static void Validate(ConnectionOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new ArgumentException("ConnectionOptions.Host must be set.", nameof(options));
        }

        if (options.Port is <= 0 or > 65535)
        {
            throw new ArgumentException($"ConnectionOptions.Port {options.Port} is not a valid TCP port.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.User, "options.User");
        ArgumentNullException.ThrowIfNull(options.Password, "options.Password");
        if (options.ConnectTimeout != Timeout.InfiniteTimeSpan && options.ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectionOptions.ConnectTimeout must be positive or Timeout.InfiniteTimeSpan.", nameof(options));
        }

        if (options.ReadTimeout != Timeout.InfiniteTimeSpan && options.ReadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectionOptions.ReadTimeout must be positive or Timeout.InfiniteTimeSpan.", nameof(options));
        }
    }

    private static string? ReadServerPublicKey(ConnectionOptions options)
    {
        if (options.ServerRsaPublicKeyFile is null)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(options.ServerRsaPublicKeyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MySqlAuthenticationException(
                $"Could not read the server RSA public key file '{options.ServerRsaPublicKeyFile}' for {options.User}@{options.Endpoint}: {ex.Message}",
                options.User,
                options.Endpoint,
                CachingSha2PasswordPlugin.PluginName);
        }
    }

    private static ServerHandshake ParseHandshake(ReadOnlySpan<byte> payload, string endpoint)
    {
        if (ResponseParser.IsError(payload))
        {
            MySqlServerException error = ResponseParser.ParseError(payload);
            throw new MySqlServerException(
                error.ErrorCode,
                error.SqlState,
                error.ServerMessage,
                $"The server {endpoint} refused the connection before authentication: error {error.ErrorCode}: {error.ServerMessage}");
        }

        try
        {
            return ServerHandshake.Parse(payload);
        }
        catch (MySqlProtocolException ex)
        {
            throw new MySqlProtocolException($"Invalid handshake from {endpoint} (is this a MySQL/MariaDB server?): {ex.Message}", ex);
        }
    }

    private static bool DecideTls(ConnectionOptions options, ServerHandshake handshake)
    {
        if (options.SslMode == SslMode.None)
        {
            return false;
        }

        if ((handshake.Capabilities & CapabilityFlags.Ssl) != 0)
        {
            return true;
        }

        if (options.SslMode == SslMode.Preferred)
        {
            return false;
        }

        throw new MySqlConnectionException(
            $"SslMode={options.SslMode} requires TLS, but the server {options.Endpoint} ({handshake.ServerVersion}) does not support it " +
            "(no CLIENT_SSL capability: TLS is not configured on the server). Configure ssl_cert/ssl_key on the server, or use SslMode=Preferred or None.");
    }

    private static CapabilityFlags NegotiateCapabilities(ConnectionOptions options, ServerHandshake handshake, bool useTls)
    {
        CapabilityFlags required = CapabilityFlags.Protocol41 | CapabilityFlags.SecureConnection;
        if ((handshake.Capabilities & required) != required)
        {
            throw new MySqlProtocolException(
                $"The server {options.Endpoint} ({handshake.ServerVersion}) lacks CLIENT_PROTOCOL_41 / CLIENT_SECURE_CONNECTION; MySQL 4.1 or later is required.");
        }

        CapabilityFlags wanted = required
            | CapabilityFlags.LongPassword
            | CapabilityFlags.LongFlag
            | CapabilityFlags.Transactions
            | CapabilityFlags.MultiResults
            | CapabilityFlags.PluginAuth
            | CapabilityFlags.PluginAuthLengthEncodedClientData;
        if (!options.DisableDeprecateEof)
        {
            wanted |= CapabilityFlags.DeprecateEof;
        }

        if (!string.IsNullOrEmpty(options.Database))
        {
            wanted |= CapabilityFlags.ConnectWithDb;
        }

        CapabilityFlags capabilities = wanted & handshake.Capabilities;
        if (useTls)
        {
            capabilities |= CapabilityFlags.Ssl;
        }

        return capabilities;
    }
}
