namespace PluginHost.Config;

/// <summary>The HTTP server for the REST API, health and metrics.</summary>
public sealed class ServerOptions
{
    /// <summary><c>host:port</c> to listen on.</summary>
    public string Listen { get; set; } = "127.0.0.1:8080";

    /// <summary>Bearer token required by mutating endpoints.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Set false to run without the HTTP server.</summary>
    public bool Enabled { get; set; } = true;
}
