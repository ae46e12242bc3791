namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>mysql_clear_password: the password + NUL in clear; only allowed over TLS.</summary>
internal sealed class ClearPasswordPlugin : IAuthenticationPlugin
{
    /// <summary>Plugin name.</summary>
    public const string PluginName = "mysql_clear_password";

    /// <inheritdoc />
    public string Name => PluginName;

    /// <inheritdoc />
    public byte[] CreateInitialResponse(AuthenticationContext context, ReadOnlySpan<byte> authData)
    {
        if (!context.IsSecureTransport)
        {
            throw context.Fail(
                PluginName,
                $"The server {context.Endpoint} asked for mysql_clear_password authentication of user '{context.User}', which sends the password " +
                "in clear text; refused because the connection is not encrypted. Use SslMode=Required (or stronger).");
        }

        byte[] response = new byte[context.PasswordBytes.Length + 1];
        context.PasswordBytes.CopyTo(response, 0);
        return response;
    }

    /// <inheritdoc />
    public byte[]? ContinueAuthentication(AuthenticationContext context, ReadOnlySpan<byte> moreData) =>
        throw new MySqlProtocolException($"{PluginName}: unexpected AuthMoreData packet from {context.Endpoint}.");
}
