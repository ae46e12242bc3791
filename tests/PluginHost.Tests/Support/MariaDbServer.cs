using PluginHost.Demo;

namespace PluginHost.Tests.Support;

/// <summary>
/// The throwaway MariaDB (see <see cref="ThrowawayMariaDb"/>: temp dir, free loopback port, ROW binlog with FULL image
/// and metadata, CRC32) as an xunit fixture: started once per test run and stopped by PID at the end. If it cannot
/// start, every test that uses it fails with the reason; nothing is ever skipped. <see cref="Sql"/> goes through
/// MySqlConnector on a pooled connection (<see cref="MariaDbSql"/>); <see cref="ClientSql"/> through the
/// <c>mariadb</c> client, for the decode oracle, whose reference is that client's text.
/// </summary>
public sealed class MariaDbServer : ThrowawayMariaDb
{
    public MariaDbServer() : base(extraArgs: null) { }

    /// <summary>A server with extra mariadbd arguments (internal: xunit needs the fixture to have one public constructor).</summary>
    internal MariaDbServer(string? extraArgs) : base(extraArgs) { }

    /// <summary>Runs SQL on a pooled MySqlConnector connection; returns what <c>mariadb --batch</c> would print.</summary>
    public override string Sql(string sql, string? database = null) => MariaDbSql.Run(SocketPath, sql, database);

    /// <summary>Runs SQL through the <c>mariadb</c> command-line client, a process per call.</summary>
    public string ClientSql(string sql, string? database = null) => base.Sql(sql, database);
}
