using PluginHost.Demo;

namespace PluginHost.Tests.Support;

/// <summary>
/// The throwaway MariaDB (see <see cref="ThrowawayMariaDb"/>: temp dir, free loopback port, ROW binlog with FULL image
/// and metadata, CRC32) as an xunit fixture: started once per test run and stopped by PID at the end. If it cannot
/// start, every test that uses it fails with the reason; nothing is ever skipped.
/// </summary>
public sealed class MariaDbServer : ThrowawayMariaDb
{
    public MariaDbServer() : base(extraArgs: null) { }

    /// <summary>A server with extra mariadbd arguments (internal: xunit needs the fixture to have one public constructor).</summary>
    internal MariaDbServer(string? extraArgs) : base(extraArgs) { }
}
