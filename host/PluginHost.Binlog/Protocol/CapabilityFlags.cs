namespace PluginHost.Binlog.Protocol;

/// <summary>The standard (32-bit) client/server capability flags of the MySQL protocol.</summary>
[Flags]
public enum CapabilityFlags : uint
{
    /// <summary>No capability.</summary>
    None = 0,

    /// <summary>CLIENT_LONG_PASSWORD; on MariaDB 10.2+ this bit is CLIENT_MYSQL and is clear when MariaDB extended capabilities are present.</summary>
    LongPassword = 1u << 0,

    /// <summary>CLIENT_FOUND_ROWS: report found rows instead of affected rows.</summary>
    FoundRows = 1u << 1,

    /// <summary>CLIENT_LONG_FLAG: all column flags.</summary>
    LongFlag = 1u << 2,

    /// <summary>CLIENT_CONNECT_WITH_DB: a default database can be named in the handshake response.</summary>
    ConnectWithDb = 1u << 3,

    /// <summary>CLIENT_NO_SCHEMA.</summary>
    NoSchema = 1u << 4,

    /// <summary>CLIENT_COMPRESS.</summary>
    Compress = 1u << 5,

    /// <summary>CLIENT_ODBC.</summary>
    Odbc = 1u << 6,

    /// <summary>CLIENT_LOCAL_FILES: LOAD DATA LOCAL.</summary>
    LocalFiles = 1u << 7,

    /// <summary>CLIENT_IGNORE_SPACE.</summary>
    IgnoreSpace = 1u << 8,

    /// <summary>CLIENT_PROTOCOL_41: the 4.1 protocol (required by this client).</summary>
    Protocol41 = 1u << 9,

    /// <summary>CLIENT_INTERACTIVE.</summary>
    Interactive = 1u << 10,

    /// <summary>CLIENT_SSL: TLS after the SSLRequest packet.</summary>
    Ssl = 1u << 11,

    /// <summary>CLIENT_IGNORE_SIGPIPE.</summary>
    IgnoreSigpipe = 1u << 12,

    /// <summary>CLIENT_TRANSACTIONS.</summary>
    Transactions = 1u << 13,

    /// <summary>CLIENT_RESERVED (old 4.1 flag).</summary>
    Reserved = 1u << 14,

    /// <summary>CLIENT_SECURE_CONNECTION (a.k.a. RESERVED2): 4.1 authentication (required by this client).</summary>
    SecureConnection = 1u << 15,

    /// <summary>CLIENT_MULTI_STATEMENTS.</summary>
    MultiStatements = 1u << 16,

    /// <summary>CLIENT_MULTI_RESULTS.</summary>
    MultiResults = 1u << 17,

    /// <summary>CLIENT_PS_MULTI_RESULTS.</summary>
    PsMultiResults = 1u << 18,

    /// <summary>CLIENT_PLUGIN_AUTH: pluggable authentication, auth switch.</summary>
    PluginAuth = 1u << 19,

    /// <summary>CLIENT_CONNECT_ATTRS.</summary>
    ConnectAttrs = 1u << 20,

    /// <summary>CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: the auth response is length-encoded.</summary>
    PluginAuthLengthEncodedClientData = 1u << 21,

    /// <summary>CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS.</summary>
    CanHandleExpiredPasswords = 1u << 22,

    /// <summary>CLIENT_SESSION_TRACK.</summary>
    SessionTrack = 1u << 23,

    /// <summary>CLIENT_DEPRECATE_EOF: result sets end with an OK packet instead of EOF packets.</summary>
    DeprecateEof = 1u << 24,

    /// <summary>CLIENT_OPTIONAL_RESULTSET_METADATA (MySQL 8).</summary>
    OptionalResultsetMetadata = 1u << 25,

    /// <summary>CLIENT_ZSTD_COMPRESSION_ALGORITHM (MySQL 8).</summary>
    ZstdCompression = 1u << 26,

    /// <summary>CLIENT_QUERY_ATTRIBUTES (MySQL 8).</summary>
    QueryAttributes = 1u << 27,

    /// <summary>MULTI_FACTOR_AUTHENTICATION (MySQL 8).</summary>
    MultiFactorAuthentication = 1u << 28,

    /// <summary>CLIENT_CAPABILITY_EXTENSION.</summary>
    CapabilityExtension = 1u << 29,

    /// <summary>CLIENT_SSL_VERIFY_SERVER_CERT.</summary>
    SslVerifyServerCert = 1u << 30,

    /// <summary>CLIENT_REMEMBER_OPTIONS.</summary>
    RememberOptions = 1u << 31,
}
