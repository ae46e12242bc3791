namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>Creates authentication plugins by protocol name.</summary>
internal static class AuthenticationPlugins
{
    /// <summary>Names of the supported plugins.</summary>
    public static readonly IReadOnlyList<string> SupportedNames =
    [
        MySqlNativePasswordPlugin.PluginName,
        CachingSha2PasswordPlugin.PluginName,
        ClientEd25519Plugin.PluginName,
        ClearPasswordPlugin.PluginName,
    ];

    /// <summary>Creates the plugin named <paramref name="name"/>, or returns null when it is not supported.</summary>
    public static IAuthenticationPlugin? TryCreate(string name) => name switch
    {
        MySqlNativePasswordPlugin.PluginName => new MySqlNativePasswordPlugin(),
        CachingSha2PasswordPlugin.PluginName => new CachingSha2PasswordPlugin(),
        ClientEd25519Plugin.PluginName => new ClientEd25519Plugin(),
        ClearPasswordPlugin.PluginName => new ClearPasswordPlugin(),
        _ => null,
    };

    /// <summary>
    /// Chooses the plugin for the first response in the handshake: the server's default when it is one that
    /// works with the handshake scramble, otherwise mysql_native_password (the server then switches if needed).
    /// </summary>
    public static IAuthenticationPlugin CreateInitial(string? serverDefault, bool isSecureTransport) => serverDefault switch
    {
        CachingSha2PasswordPlugin.PluginName => new CachingSha2PasswordPlugin(),
        ClearPasswordPlugin.PluginName when isSecureTransport => new ClearPasswordPlugin(),
        _ => new MySqlNativePasswordPlugin(),
    };

    /// <summary>Creates the plugin requested by an AuthSwitchRequest, failing clearly for unsupported plugins.</summary>
    public static IAuthenticationPlugin CreateForSwitch(string name, AuthenticationContext context) =>
        TryCreate(name) ?? throw context.Fail(
            name,
            $"The server {context.Endpoint} requires authentication plugin '{name}' for user '{context.User}', which this client does not support " +
            $"(supported: {string.Join(", ", SupportedNames)}). Change the account's authentication method, e.g. " +
            "ALTER USER ... IDENTIFIED WITH caching_sha2_password (MySQL) or IDENTIFIED VIA ed25519 / mysql_native_password (MariaDB).");
}
