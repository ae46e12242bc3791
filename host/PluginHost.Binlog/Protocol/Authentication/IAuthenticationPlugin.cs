namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>Client side of one authentication method. Instances are stateful and used for a single login.</summary>
internal interface IAuthenticationPlugin
{
    /// <summary>The protocol name of the plugin, e.g. "mysql_native_password".</summary>
    string Name { get; }

    /// <summary>Computes the first response from the server's plugin data (the scramble / nonce).</summary>
    /// <param name="context">The login in progress.</param>
    /// <param name="authData">Plugin data from the handshake or AuthSwitchRequest (may carry a trailing NUL).</param>
    byte[] CreateInitialResponse(AuthenticationContext context, ReadOnlySpan<byte> authData);

    /// <summary>Handles an AuthMoreData packet (without its 0x01 header).</summary>
    /// <returns>The bytes to send back, or null to just wait for the next server packet.</returns>
    byte[]? ContinueAuthentication(AuthenticationContext context, ReadOnlySpan<byte> moreData);
}
