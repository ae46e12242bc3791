using System.Security.Cryptography;
using System.Text;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Protocol.Authentication;
using static PluginHost.Tests.Binlog.Protocol.FakePackets;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>
/// Client behaviour against a scripted server over a loopback socket. This is how the MySQL 8 paths
/// (caching_sha2_password full authentication with RSA, auth switch, GTID dump) are verified.
/// </summary>
[Trait("Category", "Integration")]
public sealed class FakeServerProtocolTests
{
    private const string Password = "secret";

    /// <summary>What the client announces to <see cref="FakePackets.MySql8Capabilities"/> (intersection of its wishes and the server's).</summary>
    private const uint ExpectedClientCapabilities = 0x012AA205;

    private static readonly byte[] Nonce = Enumerable.Range(1, 20).Select(i => (byte)(i * 7)).ToArray();
    private static readonly byte[] Nonce2 = Enumerable.Range(1, 20).Select(i => (byte)(i * 11 + 3)).ToArray();

    [Fact]
    public async Task Caching_sha2_full_authentication_requests_the_RSA_key_byte_for_byte()
    {
        using RSA key = RSA.Create(2048);
        string pem = key.ExportSubjectPublicKeyInfoPem();
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 77, Nonce, MySql8Capabilities, "caching_sha2_password"));

            byte[] response = await s.ReceiveAsync(1);
            byte[] scramble = response.AsSpan(32 + 5 + 1, 32).ToArray();
            Assert.Equal(
                Concat(LE32(ExpectedClientCapabilities), LE32(0x40000000), [45], new byte[23], Ascii("repl\0"), [32], scramble, Ascii("caching_sha2_password\0")),
                response);
            AssertSha2ScrambleAccepted(scramble, Password, Nonce);

            await s.SendAsync(2, [0x01, 0x04]);                       // perform full authentication
            Assert.Equal(new byte[] { 0x02 }, await s.ReceiveAsync(3)); // public key request
            await s.SendAsync(4, [0x01, .. Ascii(pem)]);
            byte[] encrypted = await s.ReceiveAsync(5);
            Assert.Equal(256, encrypted.Length);
            byte[] plain = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
            Assert.Equal(Ascii("secret\0"), plain.Select((b, i) => (byte)(b ^ Nonce[i % 20])).ToArray());
            await s.SendAsync(6, Ok());

            Assert.Equal(new byte[] { 0x0E }, await s.ReceiveAsync(0));  // COM_PING
            await s.SendAsync(1, Ok());
            Assert.Equal(new byte[] { 0x01 }, await s.ReceiveAsync(0));  // COM_QUIT on dispose
        });

        await using (MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port)))
        {
            Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
            Assert.False(connection.IsTlsEnabled);
            Assert.False(connection.IsMariaDb);
            Assert.Equal(new Version(8, 0, 36), connection.Server.Version);
            Assert.Equal(77u, connection.Server.ConnectionId);
            await connection.PingAsync();
        }

        await server.CompleteAsync();
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_uses_configured_public_key_file()
    {
        using RSA key = RSA.Create(2048);
        string keyFile = Path.Combine(Path.GetTempPath(), $"pluginhost-test-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportRSAPublicKeyPem());
        try
        {
            await using var server = new FakeMySqlServer(async s =>
            {
                await s.SendAsync(0, Handshake("8.0.36", 1, Nonce, MySql8Capabilities, "caching_sha2_password"));
                await s.ReceiveAsync(1);
                await s.SendAsync(2, [0x01, 0x04]);
                byte[] encrypted = await s.ReceiveAsync(3); // directly, without requesting the key
                byte[] plain = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
                Assert.Equal(Ascii("secret\0"), plain.Select((b, i) => (byte)(b ^ Nonce[i % 20])).ToArray());
                await s.SendAsync(4, Ok());
            });

            await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port) with { ServerRsaPublicKeyFile = keyFile });
            await server.CompleteAsync();
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task Auth_switch_from_native_to_caching_sha2_fast_path_byte_for_byte()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "mysql_native_password"));

            byte[] response = await s.ReceiveAsync(1);
            byte[] native = response.AsSpan(32 + 5 + 1, 20).ToArray();
            Assert.Equal(
                Concat(LE32(ExpectedClientCapabilities), LE32(0x40000000), [45], new byte[23], Ascii("repl\0"), [20], native, Ascii("mysql_native_password\0")),
                response);
            AssertNativeScrambleAccepted(native, Password, Nonce);

            await s.SendAsync(2, Concat([0xFE], Ascii("caching_sha2_password\0"), Nonce2, [0]));
            byte[] switched = await s.ReceiveAsync(3);
            Assert.Equal(32, switched.Length);
            AssertSha2ScrambleAccepted(switched, Password, Nonce2);
            await s.SendAsync(4, [0x01, 0x03]); // fast auth success
            await s.SendAsync(5, Ok());
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task MariaDB_handshake_is_detected_and_Ed25519_switch_is_answered()
    {
        byte[] nonce32 = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();
        uint mariaCapabilities = MySql8Capabilities & ~1u; // CLIENT_MYSQL cleared => extended capabilities present
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("5.5.5-10.11.6-MariaDB-log", 9, Nonce, mariaCapabilities, "mysql_native_password", mariaDbExtended: 0x1D));
            byte[] response = await s.ReceiveAsync(1);
            Assert.Equal(ExpectedClientCapabilities & ~1u, BitConverter.ToUInt32(response, 0));
            Assert.Equal(new byte[4], response.AsSpan(28, 4).ToArray()); // no MariaDB extended client capabilities
            await s.SendAsync(2, Concat([0xFE], Ascii("client_ed25519\0"), nonce32));
            byte[] signature = await s.ReceiveAsync(3);
            Assert.Equal(Ed25519.Sign(nonce32, Encoding.UTF8.GetBytes(Password)), signature);
            await s.SendAsync(4, Ok());
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        Assert.True(connection.IsMariaDb);
        Assert.Equal(new Version(10, 11, 6), connection.Server.Version);
        Assert.Equal(MariaDbCapabilityFlags.Progress | MariaDbCapabilityFlags.StmtBulkOperations | MariaDbCapabilityFlags.ExtendedMetadata | MariaDbCapabilityFlags.CacheMetadata, connection.Server.MariaDbCapabilities);
        Assert.Equal("client_ed25519", connection.AuthenticationPlugin);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Auth_switch_to_unknown_plugin_fails_naming_the_plugin()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "mysql_native_password"));
            await s.ReceiveAsync(1);
            await s.SendAsync(2, Concat([0xFE], Ascii("authentication_kerberos_client\0"), Nonce2));
            await s.WaitForCloseAsync();
        });

        var error = await Assert.ThrowsAsync<MySqlAuthenticationException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port)));
        Assert.Contains("'authentication_kerberos_client'", error.Message);
        Assert.Equal("authentication_kerberos_client", error.PluginName);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Auth_switch_to_clear_password_without_TLS_is_refused()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "mysql_native_password"));
            await s.ReceiveAsync(1);
            await s.SendAsync(2, Concat([0xFE], Ascii("mysql_clear_password\0")));
            Assert.True(await s.WaitForCloseAsync()); // and the password was never sent
        });

        var error = await Assert.ThrowsAsync<MySqlAuthenticationException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port)));
        Assert.Contains("mysql_clear_password", error.Message);
        Assert.Contains("not encrypted", error.Message);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Access_denied_explains_what_to_check()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "caching_sha2_password"));
            await s.ReceiveAsync(1);
            await s.SendAsync(2, Error(1045, "28000", "Access denied for user 'repl'@'10.0.0.1' (using password: YES)"));
        });

        var error = await Assert.ThrowsAsync<MySqlAuthenticationException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port)));
        Assert.Equal(1045, error.ServerErrorCode);
        Assert.Equal("28000", error.SqlState);
        Assert.Contains($"repl@127.0.0.1:{server.Port}", error.Message);
        Assert.Contains("password", error.Message);
        Assert.Contains("Access denied for user 'repl'", error.Message);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Unknown_database_is_passed_through_with_its_code()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "mysql_native_password"));
            byte[] response = await s.ReceiveAsync(1);
            Assert.NotEqual(0u, BitConverter.ToUInt32(response, 0) & 8u); // CLIENT_CONNECT_WITH_DB
            Assert.Contains("nope\0", Encoding.ASCII.GetString(response));
            await s.SendAsync(2, Error(1049, "42000", "Unknown database 'nope'"));
        });

        var error = await Assert.ThrowsAsync<MySqlServerException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port) with { Database = "nope" }));
        Assert.Equal(1049, error.ErrorCode);
        Assert.Equal("42000", error.SqlState);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Error_instead_of_handshake_is_reported()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            byte[] error = [0xFF, .. LE16(1130), .. Ascii("Host '10.1.1.1' is not allowed to connect to this MySQL server")];
            await s.SendAsync(0, error);
        });

        var error = await Assert.ThrowsAsync<MySqlServerException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port)));
        Assert.Equal(1130, error.ErrorCode);
        Assert.Contains("not allowed", error.Message);
    }

    [Fact]
    public async Task SSL_required_against_server_without_TLS_fails_clearly()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, MySql8Capabilities, "mysql_native_password"));
            await s.WaitForCloseAsync();
        });

        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port) with { SslMode = SslMode.Required }));
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        Assert.Contains("does not support", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Text_query_with_and_without_deprecate_EOF(bool deprecateEof)
    {
        uint capabilities = deprecateEof ? MySql8Capabilities : MySql8Capabilities & ~0x01000000u;
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, capabilities);

            Assert.Equal(Concat([0x03], Ascii("SELECT 1, NULL, 'x'")), await s.ReceiveAsync(0));
            byte seq = 1;
            await s.SendAsync(seq++, [3]);
            await s.SendAsync(seq++, ColumnDefinition("1"));
            await s.SendAsync(seq++, ColumnDefinition("NULL"));
            await s.SendAsync(seq++, ColumnDefinition("x"));
            if (!deprecateEof)
            {
                await s.SendAsync(seq++, Eof());
            }

            await s.SendAsync(seq++, Row("1", null, "x"));
            await s.SendAsync(seq++, Row("2", "", "ü"));
            await s.SendAsync(seq++, deprecateEof ? Ok(header: 0xFE) : Eof());

            // Multi-result: first an OK with SERVER_MORE_RESULTS_EXISTS, then a result set (ignored by ExecuteAsync).
            Assert.Equal(Concat([0x03], Ascii("CALL p()")), await s.ReceiveAsync(0));
            seq = 1;
            await s.SendAsync(seq++, [0x00, 3, 0, 0x0A, 0, 0, 0]);
            await s.SendAsync(seq++, [1]);
            await s.SendAsync(seq++, ColumnDefinition("a"));
            if (!deprecateEof)
            {
                await s.SendAsync(seq++, Eof());
            }

            await s.SendAsync(seq++, Row("z"));
            await s.SendAsync(seq++, deprecateEof ? Ok(header: 0xFE) : Eof());

            Assert.Equal(Concat([0x03], Ascii("SELEC")), await s.ReceiveAsync(0));
            await s.SendAsync(1, Error(1064, "42000", "You have an error in your SQL syntax"));

            Assert.Equal(new byte[] { 0x0E }, await s.ReceiveAsync(0));
            await s.SendAsync(1, Ok());
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        Assert.Equal(deprecateEof, (connection.Capabilities & CapabilityFlags.DeprecateEof) != 0);

        QueryResult result = await connection.QueryAsync("SELECT 1, NULL, 'x'");
        Assert.Equal(["1", "NULL", "x"], result.ColumnNames);
        Assert.Equal(2, result.Rows.Count);
        Assert.Equal(["1", null, "x"], result.Rows[0]);
        Assert.Equal(["2", "", "ü"], result.Rows[1]);
        Assert.Equal("ü", result.GetValue(1, "X"));

        ExecuteResult ok = await connection.ExecuteAsync("CALL p()");
        Assert.Equal(3UL, ok.AffectedRows);

        var error = await Assert.ThrowsAsync<MySqlServerException>(() => connection.QueryAsync("SELEC"));
        Assert.Equal(1064, error.ErrorCode);
        Assert.True(connection.IsUsable);
        await connection.PingAsync();
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Binlog_dump_streams_events_joins_huge_events_and_ends_at_EOF()
    {
        byte[] small = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        byte[] huge = new byte[0xFFFFFF + 1000]; // payload with the 0x00 marker is > 16 MiB => split on the wire
        new Random(7).NextBytes(huge);
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, MySql8Capabilities);

            Assert.Equal(
                Concat([0x15], LE32(1234), [4], Ascii("host"), [0], [0], LE16(3307), LE32(0), LE32(0)),
                await s.ReceiveAsync(0));
            await s.SendAsync(1, Ok());

            Assert.Equal(
                Concat([0x12], LE32(4), LE16(1), LE32(1234), Ascii("mysql-bin.000001")),
                await s.ReceiveAsync(0));
            await s.SendAsync(1, [0x00, .. small]);
            byte[] hugePayload = [0x00, .. huge];
            await s.SendAsync(2, hugePayload.AsMemory(0, 0xFFFFFF));
            await s.SendAsync(3, hugePayload.AsMemory(0xFFFFFF));
            await s.SendAsync(4, [0x00, .. small]);
            await s.SendAsync(5, Eof());
            Assert.True(await s.WaitForCloseAsync()); // no COM_QUIT after a dump: real servers close the connection
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        await connection.RegisterReplicaAsync(1234, "host", 3307);
        await connection.StartBinlogDumpAsync("mysql-bin.000001", 4, 1234, BinlogDumpFlags.NonBlocking);
        Assert.True(connection.IsStreamingBinlog);
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.QueryAsync("SELECT 1"));

        Assert.Equal(small, (await connection.ReadBinlogEventAsync())!.Value.ToArray());
        ReadOnlyMemory<byte>? big = await connection.ReadBinlogEventAsync();
        Assert.True(big!.Value.Span.SequenceEqual(huge));
        Assert.Equal(small, (await connection.ReadBinlogEventAsync())!.Value.ToArray());
        Assert.Null(await connection.ReadBinlogEventAsync());

        Assert.False(connection.IsStreamingBinlog);
        Assert.False(connection.IsUsable); // the server closes the connection after a dump
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.PingAsync());
        await connection.DisposeAsync();
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Binlog_dump_error_1236_becomes_binlog_not_available()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, MySql8Capabilities);
            await s.ReceiveAsync(0);
            await s.SendAsync(1, Error(1236, "HY000", "Could not find first log file name in binary log index file"));
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        await connection.StartBinlogDumpAsync("mysql-bin.000099", 4, 5);
        var error = await Assert.ThrowsAsync<BinlogNotAvailableException>(async () => await connection.ReadBinlogEventAsync());
        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains("mysql-bin.000099", error.Message);
        Assert.Contains("purged", error.Message);
        Assert.Contains("Could not find first log file", error.Message);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Binlog_dump_GTID_has_the_MySQL_layout()
    {
        byte[] gtidSet = [1, 0, 0, 0, 0, 0, 0, 0, .. Enumerable.Range(0, 16).Select(i => (byte)i), 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 43, 0, 0, 0, 0, 0, 0, 0];
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, MySql8Capabilities);
            Assert.Equal(
                Concat([0x1E], LE16(0x0004), LE32(99), LE32(0), LE32(4), [0, 0, 0, 0], LE32((uint)gtidSet.Length), gtidSet),
                await s.ReceiveAsync(0));
            await s.SendAsync(1, Error(1236, "HY000", "Cannot replicate because the source purged required binary logs."));
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        await connection.StartBinlogDumpGtidAsync(gtidSet, 99, gtidSetText: "00010203-0405-0607-0809-0a0b0c0d0e0f:1-42");
        var error = await Assert.ThrowsAsync<BinlogNotAvailableException>(async () => await connection.ReadBinlogEventAsync());
        Assert.Contains("00010203-0405-0607-0809-0a0b0c0d0e0f:1-42", error.Message);
        await server.CompleteAsync();
    }

    [Fact]
    public async Task Binlog_stream_read_timeout_detects_a_dead_connection()
    {
        var release = new TaskCompletionSource();
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, MySql8Capabilities);
            await s.ReceiveAsync(0);
            await s.SendAsync(1, [0x00, 1, 2, 3]);
            await release.Task; // then silence
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        await connection.StartBinlogDumpAsync("mysql-bin.000001", 4, 5);
        Assert.Equal(new byte[] { 1, 2, 3 }, (await connection.ReadBinlogEventAsync())!.Value.ToArray());
        connection.ReadTimeout = TimeSpan.FromMilliseconds(300); // (after the first event: a busy machine may take longer to send it)
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(async () => await connection.ReadBinlogEventAsync());
        Assert.True(error.IsTimeout);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        Assert.False(connection.IsUsable);
        release.SetResult();
    }

    [Fact]
    public async Task Server_closing_the_connection_is_a_connection_error()
    {
        await using var server = new FakeMySqlServer(async s =>
        {
            await AcceptNativeLoginAsync(s, MySql8Capabilities);
            await s.ReceiveAsync(0);
            s.Stream.Close();
        });

        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port));
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => connection.QueryAsync("SELECT 1"));
        Assert.Contains("closed", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.PingAsync());
    }

    [Fact]
    public void Options_ToString_hides_the_password()
    {
        string text = Options(3306).ToString();
        Assert.DoesNotContain(Password, text);
        Assert.Contains("***", text);
    }

    private static ConnectionOptions Options(int port) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        User = "repl",
        Password = Password,
        ConnectTimeout = TimeSpan.FromSeconds(20),
    };

    private static async Task AcceptNativeLoginAsync(FakeSession s, uint capabilities)
    {
        await s.SendAsync(0, Handshake("8.0.36", 5, Nonce, capabilities, "mysql_native_password"));
        byte[] response = await s.ReceiveAsync(1);
        Assert.Equal("repl", Encoding.ASCII.GetString(response, 32, 4));
        await s.SendAsync(2, Ok());
    }

    private static void AssertNativeScrambleAccepted(byte[] response, string password, byte[] nonce)
    {
        byte[] stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
        byte[] mask = SHA1.HashData([.. nonce, .. stored]);
        byte[] stage1 = response.Select((b, i) => (byte)(b ^ mask[i])).ToArray();
        Assert.Equal(stored, SHA1.HashData(stage1));
    }

    private static void AssertSha2ScrambleAccepted(byte[] response, string password, byte[] nonce)
    {
        byte[] cached = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
        byte[] mask = SHA256.HashData([.. cached, .. nonce]);
        byte[] stage1 = response.Select((b, i) => (byte)(b ^ mask[i])).ToArray();
        Assert.Equal(cached, SHA256.HashData(stage1));
    }
}
