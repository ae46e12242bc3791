namespace PluginHost.Binlog.Protocol;

/// <summary>
/// MariaDB 10.2+ extended capability flags, sent in the last 4 bytes of the handshake filler when the
/// server clears <see cref="CapabilityFlags.LongPassword"/> (CLIENT_MYSQL). Bit n here is bit 32+n of the 64-bit MariaDB capabilities.
/// </summary>
[Flags]
public enum MariaDbCapabilityFlags : uint
{
    /// <summary>No extended capability (or not a MariaDB server).</summary>
    None = 0,

    /// <summary>MARIADB_CLIENT_PROGRESS: progress reports.</summary>
    Progress = 1u << 0,

    /// <summary>MARIADB_CLIENT_COM_MULTI.</summary>
    ComMulti = 1u << 1,

    /// <summary>MARIADB_CLIENT_STMT_BULK_OPERATIONS.</summary>
    StmtBulkOperations = 1u << 2,

    /// <summary>MARIADB_CLIENT_EXTENDED_METADATA (extended type info in column definitions).</summary>
    ExtendedMetadata = 1u << 3,

    /// <summary>MARIADB_CLIENT_CACHE_METADATA.</summary>
    CacheMetadata = 1u << 4,

    /// <summary>MARIADB_CLIENT_BULK_UNIT_RESULTS.</summary>
    BulkUnitResults = 1u << 5,
}
