namespace PluginHost.Config;

/// <summary>The HTTP server for the REST API, health and metrics.</summary>
internal sealed class ServerOptions
{
    /// <summary><c>host:port</c> to listen on.</summary>
    public string Listen { get; set; } = "127.0.0.1:8080";

    /// <summary>
    /// Bearer token required by mutating endpoints. Not set: one is generated at first start into
    /// <c>state_dir/admin-token</c> (mode 0600). <c>""</c> turns authentication off, only with <see cref="AllowUnauthenticatedAdmin"/>.
    /// </summary>
    public string? AdminToken { get; set; }

    /// <summary>With <c>admin_token: ""</c>: any local client may change pipelines without a token (loopback only).</summary>
    public bool AllowUnauthenticatedAdmin { get; set; }

    /// <summary>Set false to run without the HTTP server.</summary>
    public bool Enabled { get; set; } = true;
}
