namespace PluginHost.Binlog.Protocol;

/// <summary>
/// Authentication failed: either the server refused the credentials (error 1045 and friends) or the
/// client refused to continue (unknown authentication plugin, clear-text password over an unencrypted
/// connection, unusable RSA public key, ...).
/// </summary>
public sealed class MySqlAuthenticationException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Explanation including the user, the endpoint and what to check.</param>
    /// <param name="user">The user name that was used.</param>
    /// <param name="endpoint">The server as "host:port".</param>
    /// <param name="pluginName">The authentication plugin involved, when known.</param>
    /// <param name="serverError">The server's ERR packet, when the server refused the login.</param>
    public MySqlAuthenticationException(string message, string user, string endpoint, string? pluginName = null, MySqlServerException? serverError = null)
        : base(message, serverError)
    {
        User = user;
        Endpoint = endpoint;
        PluginName = pluginName;
        ServerErrorCode = serverError?.ErrorCode;
        SqlState = serverError?.SqlState;
    }

    /// <summary>The user name that was used to log in.</summary>
    public string User { get; }

    /// <summary>The server as "host:port".</summary>
    public string Endpoint { get; }

    /// <summary>The authentication plugin involved, when known (e.g. "client_ed25519").</summary>
    public string? PluginName { get; }

    /// <summary>The server error number (e.g. 1045) when the server refused the login; null for client-side refusals.</summary>
    public int? ServerErrorCode { get; }

    /// <summary>The SQLSTATE of the server error, when there is one.</summary>
    public string? SqlState { get; }
}
