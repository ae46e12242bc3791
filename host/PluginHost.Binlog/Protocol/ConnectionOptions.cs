using System.Text;

namespace PluginHost.Binlog.Protocol;

/// <summary>Settings for <see cref="MySqlProtocolConnection.OpenAsync"/>.</summary>
public sealed record ConnectionOptions
{
    /// <summary>Server host name or IP address.</summary>
    public required string Host { get; init; }

    /// <summary>Server TCP port (default 3306).</summary>
    public int Port { get; init; } = 3306;

    /// <summary>User name.</summary>
    public required string User { get; init; }

    /// <summary>Password; empty for an account without password.</summary>
    public string Password { get; init; } = "";

    /// <summary>Optional default database (sent with CLIENT_CONNECT_WITH_DB).</summary>
    public string? Database { get; init; }

    /// <summary>TLS usage (default <see cref="SslMode.Preferred"/>).</summary>
    public SslMode SslMode { get; init; } = SslMode.Preferred;

    /// <summary>
    /// PEM (or DER) file with the CA certificate(s) that must have issued the server certificate, used by
    /// <see cref="SslMode.VerifyCa"/> and <see cref="SslMode.VerifyFull"/>. When null the system trust store is used.
    /// </summary>
    public string? SslCaFile { get; init; }

    /// <summary>
    /// Optional PEM file with the server's RSA public key for caching_sha2_password full authentication without TLS.
    /// When set, the key is not requested from the server.
    /// </summary>
    public string? ServerRsaPublicKeyFile { get; init; }

    /// <summary>
    /// Whether caching_sha2_password may ask the server for its RSA public key over an unencrypted connection
    /// (default true). A man in the middle could substitute the key, so prefer TLS or <see cref="ServerRsaPublicKeyFile"/>.
    /// </summary>
    public bool AllowPublicKeyRetrieval { get; init; } = true;

    /// <summary>Upper bound for DNS, TCP connect, TLS handshake and authentication together (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Initial read timeout after the connection is open (default 60 s, <see cref="Timeout.InfiniteTimeSpan"/> to disable):
    /// if the server sends nothing for this long the connection is considered dead. Can be changed later with
    /// <see cref="MySqlProtocolConnection.ReadTimeout"/>, e.g. to a multiple of the replication heartbeat period.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Test hook: do not request CLIENT_DEPRECATE_EOF, so result sets use classic EOF packets.</summary>
    internal bool DisableDeprecateEof { get; init; }

    /// <summary>The endpoint as "host:port", as used in error messages.</summary>
    public string Endpoint => Host.Contains(':') && !Host.StartsWith('[') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Host = ").Append(Host)
            .Append(", Port = ").Append(Port)
            .Append(", User = ").Append(User)
            .Append(", Password = ").Append(Password.Length == 0 ? "(empty)" : "***")
            .Append(", Database = ").Append(Database)
            .Append(", SslMode = ").Append(SslMode)
            .Append(", SslCaFile = ").Append(SslCaFile)
            .Append(", ServerRsaPublicKeyFile = ").Append(ServerRsaPublicKeyFile)
            .Append(", AllowPublicKeyRetrieval = ").Append(AllowPublicKeyRetrieval)
            .Append(", ConnectTimeout = ").Append(ConnectTimeout)
            .Append(", ReadTimeout = ").Append(ReadTimeout);
        return true;
    }
}
