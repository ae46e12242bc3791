using PluginHost.Binlog.Protocol;

namespace PluginHost.Binlog.Replication;

/// <summary>Settings of a <see cref="BinlogClient"/>.</summary>
public sealed record BinlogClientOptions
{
    /// <summary>How to reach and log in to the server.</summary>
    public required ConnectionOptions Connection { get; init; }

    /// <summary>This replica's server id: unique among the server's replicas.</summary>
    public required uint ServerId { get; init; }

    /// <summary>Where to start (ignored when <see cref="BinlogClient.ReadAsync"/> is given a resume position).</summary>
    public BinlogStart Start { get; init; } = BinlogStart.Latest;

    /// <summary>
    /// Heartbeat period asked of the server; the connection is declared dead after three silent periods plus a second.
    /// <see cref="TimeSpan.Zero"/> asks for none, and then an idle stream never times out.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Verify CRC32 event checksums.</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// Reconnect after a dropped connection (from the last complete transaction, without repeating events). The first
    /// connection of a client is not retried: failing to connect at all is reported at once.
    /// </summary>
    public bool Reconnect { get; init; } = true;

    /// <summary>
    /// Also retry (with the same backoff) when the very first connection fails for a transient reason (connection
    /// refused or dropped, server restarting). Off by default so a wrong host fails at once; services that must ride
    /// out a database restart (pipelines) turn it on. Authentication and configuration errors always fail at once.
    /// </summary>
    public bool RetryInitialConnect { get; init; }

    /// <summary>First delay before reconnecting; doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Give up after this many failed reconnect attempts in a row (0 = never give up).</summary>
    public int MaxReconnectAttempts { get; init; }

    /// <summary>Fill in column names, signedness and charsets from information_schema for table maps that carry none, and
    /// learn which MariaDB text columns are JSON (their values are then embedded as JSON, not strings).</summary>
    public bool UseInformationSchema { get; init; } = true;

    /// <summary>
    /// The schema history that names the columns of the tables it follows (instead of today's information_schema): the
    /// client records its baseline at the first connect when it has none, applies the DDL statements it reads, marks a
    /// table uncertain when a map does not fit, and describes uncertain tables again when caught up (at a heartbeat).
    /// Null: table maps without names are completed from information_schema as it is now.
    /// </summary>
    public History.SchemaHistory? SchemaHistory { get; init; }

    /// <summary>Called when the connection is lost (or cannot be made) and the client is about to retry.</summary>
    public Action<Exception>? OnConnectionLost { get; init; }

    /// <summary>Receives diagnostic messages (connects, reconnects, warnings).</summary>
    public Action<string>? Log { get; init; }
}
