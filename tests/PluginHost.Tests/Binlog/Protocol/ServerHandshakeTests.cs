using PluginHost.Binlog.Protocol;
using static PluginHost.Tests.Binlog.Protocol.FakePackets;

namespace PluginHost.Tests.Binlog.Protocol;

public sealed class ServerHandshakeTests
{
    [Fact]
    public void MariaDB_is_detected_with_extended_capabilities_and_version()
    {
        byte[] scramble = Enumerable.Range(0, 20).Select(i => (byte)(i + 40)).ToArray();
        ServerHandshake handshake = ServerHandshake.Parse(
            Handshake("5.5.5-10.11.19-MariaDB-0+deb12u1-log", 42, scramble, MySql8Capabilities & ~1u, "mysql_native_password", mariaDbExtended: 0x3D, status: 0x0002));

        Assert.True(handshake.IsMariaDb);
        Assert.Equal(new Version(10, 11, 19), handshake.Version);
        Assert.Equal("5.5.5-10.11.19-MariaDB-0+deb12u1-log", handshake.ServerVersion);
        Assert.Equal(42u, handshake.ConnectionId);
        Assert.Equal(scramble, handshake.AuthPluginData.ToArray());
        Assert.Equal("mysql_native_password", handshake.AuthPluginName);
        Assert.Equal((MariaDbCapabilityFlags)0x3D, handshake.MariaDbCapabilities);
        Assert.Equal(ServerStatusFlags.AutoCommit, handshake.StatusFlags);
        Assert.Equal(45, handshake.CharacterSet);
        Assert.Equal(0u, (uint)(handshake.Capabilities & CapabilityFlags.LongPassword));
    }

    [Fact]
    public void MySQL_is_not_MariaDB_and_ignores_the_filler()
    {
        byte[] scramble = Enumerable.Range(0, 20).Select(i => (byte)(i + 1)).ToArray();
        ServerHandshake handshake = ServerHandshake.Parse(Handshake("8.0.36", 7, scramble, MySql8Capabilities, "caching_sha2_password", mariaDbExtended: 0xFFFF));
        Assert.False(handshake.IsMariaDb);
        Assert.Equal(MariaDbCapabilityFlags.None, handshake.MariaDbCapabilities);
        Assert.Equal(new Version(8, 0, 36), handshake.Version);
        Assert.Equal("caching_sha2_password", handshake.AuthPluginName);
        Assert.True(handshake.Capabilities.HasFlag(CapabilityFlags.DeprecateEof));
    }

    [Fact]
    public void Scramble_bytes_that_are_zero_are_kept()
    {
        byte[] scramble = new byte[20];
        scramble[3] = 9;
        scramble[15] = 7;
        ServerHandshake handshake = ServerHandshake.Parse(Handshake("8.0.36", 7, scramble, MySql8Capabilities, "mysql_native_password"));
        Assert.Equal(scramble, handshake.AuthPluginData.ToArray());
    }

    [Fact]
    public void Without_plugin_auth_the_plugin_name_is_null()
    {
        byte[] scramble = Enumerable.Range(0, 20).Select(i => (byte)(i + 1)).ToArray();
        byte[] packet = Handshake("5.1.73", 7, scramble, MySql8Capabilities & ~0x00080000u & ~0x00200000u & ~0x01000000u, "ignored");
        packet = packet.AsSpan(0, packet.Length - "ignored\0".Length).ToArray(); // no plugin name
        ServerHandshake handshake = ServerHandshake.Parse(packet);
        Assert.Null(handshake.AuthPluginName);
        Assert.Equal(scramble, handshake.AuthPluginData.ToArray());
    }

    [Fact]
    public void Other_protocol_versions_are_rejected()
    {
        Assert.Throws<MySqlProtocolException>(() => ServerHandshake.Parse([9, .. "3.23\0"u8]));
        Assert.Throws<MySqlProtocolException>(() => ServerHandshake.Parse([10, .. "8.0\0"u8, 1]));
    }
}
