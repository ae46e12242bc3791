namespace PluginHost.Binlog.Protocol;

/// <summary>How the connection uses TLS.</summary>
public enum SslMode
{
    /// <summary>Never use TLS, even if the server supports it.</summary>
    None = 0,

    /// <summary>Use TLS when the server supports it (without certificate validation), otherwise continue unencrypted.</summary>
    Preferred = 1,

    /// <summary>Require TLS; fail if the server does not support it. The server certificate is not validated.</summary>
    Required = 2,

    /// <summary>
    /// Require TLS and validate the server certificate chain against <see cref="ConnectionOptions.SslCaFile"/>
    /// (or the system trust store when no CA file is given). The host name is not checked.
    /// </summary>
    VerifyCa = 3,

    /// <summary>Like <see cref="VerifyCa"/>, and the certificate must also match <see cref="ConnectionOptions.Host"/>.</summary>
    VerifyFull = 4,
}
