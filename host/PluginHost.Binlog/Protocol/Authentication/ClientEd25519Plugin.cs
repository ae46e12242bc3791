namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>MariaDB client_ed25519: the response is the Ed25519 signature of the 32-byte nonce, keyed by the password.</summary>
internal sealed class ClientEd25519Plugin : IAuthenticationPlugin
{
    /// <summary>Plugin name.</summary>
    public const string PluginName = "client_ed25519";

    /// <summary>Length of the server nonce.</summary>
    public const int NonceLength = 32;

    /// <inheritdoc />
    public string Name => PluginName;

    /// <inheritdoc />
    public byte[] CreateInitialResponse(AuthenticationContext context, ReadOnlySpan<byte> authData)
    {
        if (authData.Length < NonceLength)
        {
            throw new MySqlProtocolException($"{PluginName}: the server nonce has {authData.Length} bytes, {NonceLength} expected.");
        }

        return Ed25519.Sign(authData.Slice(0, NonceLength), context.PasswordBytes);
    }

    /// <inheritdoc />
    public byte[]? ContinueAuthentication(AuthenticationContext context, ReadOnlySpan<byte> moreData) =>
        throw new MySqlProtocolException($"{PluginName}: unexpected AuthMoreData packet from {context.Endpoint}.");
}
