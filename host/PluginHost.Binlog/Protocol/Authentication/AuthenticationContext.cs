using System.Text;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>What an authentication plugin needs to know about the login in progress.</summary>
internal sealed class AuthenticationContext
{
    /// <summary>Creates the context.</summary>
    public AuthenticationContext(string user, string password, string endpoint, bool isSecureTransport, string? serverPublicKeyPem, bool allowPublicKeyRetrieval)
    {
        User = user;
        Password = password;
        PasswordBytes = Encoding.UTF8.GetBytes(password);
        Endpoint = endpoint;
        IsSecureTransport = isSecureTransport;
        ServerPublicKeyPem = serverPublicKeyPem;
        AllowPublicKeyRetrieval = allowPublicKeyRetrieval;
    }

    /// <summary>The user name.</summary>
    public string User { get; }

    /// <summary>The password.</summary>
    public string Password { get; }

    /// <summary>The password as UTF-8.</summary>
    public byte[] PasswordBytes { get; }

    /// <summary>The server as "host:port".</summary>
    public string Endpoint { get; }

    /// <summary>True when the connection is protected by TLS, so secrets may be sent in clear inside it.</summary>
    public bool IsSecureTransport { get; }

    /// <summary>A configured server RSA public key (PEM), or null.</summary>
    public string? ServerPublicKeyPem { get; }

    /// <summary>Whether the server's RSA public key may be requested over an unencrypted connection.</summary>
    public bool AllowPublicKeyRetrieval { get; }

    /// <summary>Creates a client-side authentication failure.</summary>
    public MySqlAuthenticationException Fail(string pluginName, string message) => new(message, User, Endpoint, pluginName);
}
