using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using PluginHost.Binlog.Protocol;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>
/// The protocol client against real MariaDB servers started by <see cref="Servers"/>: one with TLS and the
/// ed25519 plugin, one without TLS. Fails (never skips) when MariaDB is not installed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ProtocolIntegrationTests(ProtocolIntegrationTests.Servers servers) : IClassFixture<ProtocolIntegrationTests.Servers>
{
    private const byte RotateEvent = 4;
    private const byte FormatDescriptionEvent = 15;
    private const byte HeartbeatEvent = 27;
    private const byte MariaDbGtidEvent = 162;

    [Fact]
    public async Task Native_password_succeeds()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None));
        Assert.Equal("mysql_native_password", connection.AuthenticationPlugin);
        Assert.True(connection.IsMariaDb);
        Assert.NotEqual(MariaDbCapabilityFlags.None, connection.Server.MariaDbCapabilities);
        Assert.Equal(10, connection.Server.Version!.Major);
        Assert.False(connection.IsTlsEnabled);
        await connection.PingAsync();
    }

    [Fact]
    public async Task Native_password_wrong_gives_a_clear_access_denied()
    {
        var error = await Assert.ThrowsAsync<MySqlAuthenticationException>(() =>
            MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "wrong", SslMode.None)));
        Assert.Equal(1045, error.ServerErrorCode);
        Assert.Contains($"native@127.0.0.1:{servers.Tls.Port}", error.Message);
        Assert.Contains("user name/password", error.Message);
    }

    [Fact]
    public async Task Empty_password_succeeds()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "nopw", "", SslMode.None));
        QueryResult result = await connection.QueryAsync("SELECT CURRENT_USER()");
        Assert.Equal("nopw@%", result.Rows[0][0]);
    }

    [Fact]
    public async Task Ed25519_succeeds_and_wrong_password_is_refused()
    {
        await using (MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "ed", "edpw-ß", SslMode.None)))
        {
            Assert.Equal("client_ed25519", connection.AuthenticationPlugin);
            Assert.Equal("ed@%", (await connection.QueryAsync("SELECT CURRENT_USER()")).Rows[0][0]);
        }

        var error = await Assert.ThrowsAsync<MySqlAuthenticationException>(() =>
            MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "ed", "edpw", SslMode.None)));
        Assert.Equal(1045, error.ServerErrorCode);
        Assert.Equal("client_ed25519", error.PluginName);
    }

    [Fact]
    public async Task TLS_required_encrypts_without_validating_the_certificate()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "ed", "edpw-ß", SslMode.Required));
        Assert.True(connection.IsTlsEnabled);
        QueryResult cipher = await connection.QueryAsync("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
        Assert.False(string.IsNullOrEmpty(cipher.Rows[0][1]));
    }

    [Fact]
    public async Task TLS_verify_ca_accepts_the_right_CA_ignoring_the_host_name()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.VerifyCa) with { SslCaFile = servers.CaFile });
        Assert.True(connection.IsTlsEnabled);
    }

    [Fact]
    public async Task TLS_verify_ca_rejects_another_CA()
    {
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.VerifyCa) with { SslCaFile = servers.OtherCaFile }));
        Assert.Contains("not issued by the CA", error.Message);
        Assert.Contains(servers.OtherCaFile, error.Message);
    }

    [Fact]
    public async Task TLS_verify_full_accepts_a_matching_host_name()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.VerifyFull) with { Host = "localhost", SslCaFile = servers.CaFile });
        Assert.True(connection.IsTlsEnabled);
    }

    [Fact]
    public async Task TLS_verify_full_rejects_a_mismatching_host_name()
    {
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.VerifyFull) with { SslCaFile = servers.CaFile }));
        Assert.Contains("does not match the host name '127.0.0.1'", error.Message);
        Assert.Contains($"127.0.0.1:{servers.Tls.Port}", error.Message);
    }

    [Fact]
    public async Task TLS_preferred_uses_TLS_when_available_and_falls_back_when_not()
    {
        await using (MySqlProtocolConnection withTls = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.Preferred)))
        {
            Assert.True(withTls.IsTlsEnabled);
        }

        await using (MySqlProtocolConnection plain = await MySqlProtocolConnection.OpenAsync(Options(servers.Plain, "native", "nativepw", SslMode.Preferred)))
        {
            Assert.False(plain.IsTlsEnabled);
            await plain.PingAsync();
        }

        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() =>
            MySqlProtocolConnection.OpenAsync(Options(servers.Plain, "native", "nativepw", SslMode.Required)));
        Assert.Contains($"127.0.0.1:{servers.Plain.Port}", error.Message);
        Assert.Contains("does not support", error.Message);
    }

    [Fact]
    public async Task Connection_refused_names_host_and_port()
    {
        int port = FreePort();
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() =>
            MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None) with { Port = port }));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("refused", error.Message);
    }

    [Fact]
    public async Task Unknown_host_names_host_and_port()
    {
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.None) with { Host = "no-such-host.invalid", Port = 3306, ConnectTimeout = TimeSpan.FromSeconds(5) }));
        Assert.Contains("no-such-host.invalid:3306", error.Message);
    }

    [Fact]
    public async Task Unknown_database_is_passed_through_with_its_code()
    {
        var error = await Assert.ThrowsAsync<MySqlServerException>(() => MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.None) with { Database = "no_such_db" }));
        Assert.Equal(1049, error.ErrorCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Text_queries_with_and_without_deprecate_EOF(bool disableDeprecateEof)
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(
            Options(servers.Tls, "native", "nativepw", SslMode.None) with { DisableDeprecateEof = disableDeprecateEof, Database = "testdb" });
        Assert.Equal(!disableDeprecateEof, (connection.Capabilities & CapabilityFlags.DeprecateEof) != 0);

        QueryResult result = await connection.QueryAsync("SELECT 1, NULL, 'x'");
        Assert.Equal(["1", "NULL", "x"], result.ColumnNames);
        Assert.Equal(["1", null, "x"], Assert.Single(result.Rows));

        Assert.Equal("ROW", (await connection.QueryAsync("SELECT @@binlog_format")).Rows[0][0]);
        ExecuteResult set = await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        Assert.Equal(0UL, set.AffectedRows);

        QueryResult columns = await connection.QueryAsync(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'testdb' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION");
        Assert.Equal(["id", "v"], columns.Rows.Select(r => r[0]));
        Assert.Equal("PRI", columns.GetValue(0, "column_key"));

        QueryResult grants = await connection.QueryAsync("SHOW GRANTS");
        Assert.Contains(grants.Rows, r => r[0]!.Contains("REPLICATION SLAVE"));

        QueryResult empty = await connection.QueryAsync("SELECT id FROM t WHERE id < 0");
        Assert.Equal(["id"], empty.ColumnNames);
        Assert.Empty(empty.Rows);

        var syntax = await Assert.ThrowsAsync<MySqlServerException>(() => connection.QueryAsync("SELEC 1"));
        Assert.Equal(1064, syntax.ErrorCode);
        Assert.Equal("42000", syntax.SqlState);
        await connection.PingAsync();
    }

    [Fact]
    public async Task Show_master_status_returns_the_current_binlog()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None));
        QueryResult status = await connection.QueryAsync("SHOW MASTER STATUS");
        Assert.StartsWith("mysql-bin.", status.GetValue(0, "File"));
        Assert.True(long.Parse(status.GetValue(0, "Position")!) > 4);
    }

    [Fact]
    public async Task Register_and_binlog_dump_from_the_first_file_reads_raw_events()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.Required));
        string firstFile = (await connection.QueryAsync("SHOW BINARY LOGS")).Rows[0][0]!;
        await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        await connection.RegisterReplicaAsync(1001, "pluginhost-test", 0);
        await connection.StartBinlogDumpAsync(firstFile, 4, 1001, BinlogDumpFlags.NonBlocking);

        var types = new List<byte>();
        while (await connection.ReadBinlogEventAsync() is { } raw)
        {
            Assert.True(raw.Length >= 19);
            Assert.Equal(raw.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(raw.Span.Slice(9))); // event_size
            types.Add(raw.Span[4]);
            Assert.True(types.Count < 100_000);
        }

        // The stream starts with an artificial ROTATE event naming the file, then the file's FORMAT_DESCRIPTION event.
        Assert.Equal(RotateEvent, types[0]);
        Assert.Equal(FormatDescriptionEvent, types[1]);
        Assert.True(types.Count > 2);
        Assert.False(connection.IsStreamingBinlog);
        Assert.False(connection.IsUsable); // the server closes the connection when a dump ends
    }

    [Fact]
    public async Task Binlog_dump_of_a_missing_file_gives_binlog_not_available()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None));
        await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        await connection.StartBinlogDumpAsync("mysql-bin.999999", 4, 1002);
        var error = await Assert.ThrowsAsync<BinlogNotAvailableException>(async () => await connection.ReadBinlogEventAsync());
        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains("mysql-bin.999999", error.Message);
        Assert.Contains($"127.0.0.1:{servers.Tls.Port}", error.Message);
        Assert.False(connection.IsUsable);
    }

    [Fact]
    public async Task MariaDB_GTID_start_streams_from_the_given_position()
    {
        await using MySqlProtocolConnection writer = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None) with { Database = "testdb" });
        await writer.ExecuteAsync("INSERT INTO t (v) VALUES ('before')");
        string position = (await writer.QueryAsync("SELECT @@gtid_binlog_pos")).Rows[0][0]!;
        ulong startSequence = ulong.Parse(position.Split('-')[2]);
        ExecuteResult insert = await writer.ExecuteAsync("INSERT INTO t (v) VALUES ('after')");
        Assert.Equal(1UL, insert.AffectedRows);

        await using MySqlProtocolConnection reader = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "ed", "edpw-ß", SslMode.None));
        await reader.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        reader.ReadTimeout = TimeSpan.FromSeconds(5);
        await reader.StartMariaDbGtidBinlogDumpAsync(position, 1003, BinlogDumpFlags.SendAnnotateRowsEvent);

        ulong? firstGtid = null;
        for (int i = 0; i < 50 && firstGtid is null; i++)
        {
            ReadOnlyMemory<byte> raw = (await reader.ReadBinlogEventAsync())!.Value;
            if (raw.Span[4] == MariaDbGtidEvent)
            {
                firstGtid = BinaryPrimitives.ReadUInt64LittleEndian(raw.Span.Slice(19));
            }
        }

        Assert.Equal(startSequence + 1, firstGtid);
    }

    [Fact]
    public async Task MariaDB_GTID_start_manual_set_statements_and_heartbeats()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Tls, "native", "nativepw", SslMode.None));
        string position = (await connection.QueryAsync("SELECT @@gtid_binlog_pos")).Rows[0][0]!;
        await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        await connection.ExecuteAsync("SET @master_heartbeat_period = 100000000"); // 0.1 s, in nanoseconds
        await connection.ExecuteAsync("SET @mariadb_slave_capability=4");
        await connection.ExecuteAsync($"SET @slave_connect_state='{position}'");
        await connection.ExecuteAsync("SET @slave_gtid_strict_mode=0");
        await connection.ExecuteAsync("SET @slave_gtid_ignore_duplicates=0");
        await connection.StartBinlogDumpAsync("", 4, 1004);
        connection.ReadTimeout = TimeSpan.FromSeconds(2);

        bool sawHeartbeat = false;
        for (int i = 0; i < 100 && !sawHeartbeat; i++)
        {
            ReadOnlyMemory<byte> raw = (await connection.ReadBinlogEventAsync())!.Value;
            sawHeartbeat = raw.Span[4] == HeartbeatEvent;
        }

        Assert.True(sawHeartbeat);
    }

    [Fact]
    public async Task Idle_binlog_stream_without_heartbeat_hits_the_read_timeout()
    {
        await using MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(servers.Plain, "native", "nativepw", SslMode.None));
        string file = (await connection.QueryAsync("SHOW MASTER STATUS")).Rows[0][0]!;
        await connection.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum");
        await connection.StartBinlogDumpAsync(file, 4, 1005);
        connection.ReadTimeout = TimeSpan.FromMilliseconds(700);

        var error = await Assert.ThrowsAsync<MySqlConnectionException>(async () =>
        {
            while (true)
            {
                await connection.ReadBinlogEventAsync();
            }
        });
        Assert.True(error.IsTimeout);
        Assert.False(connection.IsUsable);
    }

    private static ConnectionOptions Options(Servers.Instance server, string user, string password, SslMode sslMode) => new()
    {
        Host = "127.0.0.1",
        Port = server.Port,
        User = user,
        Password = password,
        SslMode = sslMode,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ReadTimeout = TimeSpan.FromSeconds(10),
    };

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Starts two throwaway MariaDB servers in a temp directory (TLS + ed25519, and plain), creates the test
    /// users, and kills the servers by PID on dispose.
    /// </summary>
    public sealed class Servers : IAsyncLifetime
    {
        private static readonly string[] SearchDirectories = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin", "/usr/local/mysql/bin", "/opt/mariadb/bin"];

        private readonly string _root = Path.Combine(Path.GetTempPath(), $"pluginhost-proto-{Guid.NewGuid():N}"[..30]);

        public Instance Tls { get; private set; } = null!;

        public Instance Plain { get; private set; } = null!;

        public string CaFile => Path.Combine(_root, "ca.pem");

        public string OtherCaFile => Path.Combine(_root, "other-ca.pem");

        public async Task InitializeAsync()
        {
            string mariadbd = FindExecutable("mariadbd", "mysqld");
            string installDb = FindExecutable("mariadb-install-db", "mysql_install_db");
            string client = FindExecutable("mariadb", "mysql");
            Directory.CreateDirectory(_root);
            WriteCertificates();

            string tlsOptions = $"--ssl-ca={CaFile} --ssl-cert={Path.Combine(_root, "server-cert.pem")} --ssl-key={Path.Combine(_root, "server-key.pem")}";
            Task<Instance> tls = Instance.StartAsync(mariadbd, installDb, client, Path.Combine(_root, "tls"), tlsOptions);
            Task<Instance> plain = Instance.StartAsync(mariadbd, installDb, client, Path.Combine(_root, "plain"), "--skip-ssl");
            try
            {
                Tls = await tls;
                Plain = await plain;
            }
            catch
            {
                await Task.WhenAll(tls.ContinueWith(_ => { }), plain.ContinueWith(_ => { }));
                if (tls.IsCompletedSuccessfully)
                {
                    tls.Result.Dispose();
                }

                if (plain.IsCompletedSuccessfully)
                {
                    plain.Result.Dispose();
                }

                throw;
            }

            const string setup =
                "DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES; " +
                "CREATE USER native@'%' IDENTIFIED BY 'nativepw'; " +
                "CREATE USER nopw@'%'; " +
                "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO native@'%'; " +
                "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO nopw@'%'; " +
                "CREATE DATABASE testdb; CREATE TABLE testdb.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20)); " +
                "GRANT ALL ON testdb.* TO native@'%'; ";
            await Tls.RunSqlAsync(setup +
                "CREATE USER ed@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edpw-ß'); " +
                "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ed@'%';");
            await Plain.RunSqlAsync(setup);
        }

        public Task DisposeAsync()
        {
            Tls?.Dispose();
            Plain?.Dispose();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }

            return Task.CompletedTask;
        }

        private static string FindExecutable(params string[] names)
        {
            IEnumerable<string> path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            foreach (string name in names)
            {
                foreach (string directory in path.Concat(SearchDirectories))
                {
                    string candidate = Path.Combine(directory, name);
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }

            throw new InvalidOperationException(
                $"MariaDB is required for the protocol integration tests but '{names[0]}' was not found in PATH or {string.Join(", ", SearchDirectories)}. " +
                "Install the MariaDB server and client packages (mariadbd, mariadb-install-db, mariadb).");
        }

        private void WriteCertificates()
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using RSA caKey = RSA.Create(2048);
            var caRequest = new CertificateRequest("CN=PluginHost Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
            using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

            using RSA serverKey = RSA.Create(2048);
            var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost"); // deliberately no IP address: connecting to 127.0.0.1 is a host-name mismatch
            serverRequest.CertificateExtensions.Add(names.Build());
            serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            using X509Certificate2 server = serverRequest.Create(ca, now.AddDays(-1), now.AddDays(2), RandomNumberGenerator.GetBytes(16));

            using RSA otherKey = RSA.Create(2048);
            var otherRequest = new CertificateRequest("CN=Unrelated CA", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            otherRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using X509Certificate2 other = otherRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

            File.WriteAllText(CaFile, ca.ExportCertificatePem());
            File.WriteAllText(OtherCaFile, other.ExportCertificatePem());
            File.WriteAllText(Path.Combine(_root, "server-cert.pem"), server.ExportCertificatePem());
            File.WriteAllText(Path.Combine(_root, "server-key.pem"), serverKey.ExportRSAPrivateKeyPem());
        }

        /// <summary>One running mariadbd.</summary>
        public sealed class Instance : IDisposable
        {
            private readonly Process _process;
            private readonly string _directory;
            private readonly string _client;

            private Instance(Process process, string directory, string client, int port)
            {
                _process = process;
                _directory = directory;
                _client = client;
                Port = port;
            }

            public int Port { get; }

            private string Socket => Path.Combine(_directory, "sock");

            public static async Task<Instance> StartAsync(string mariadbd, string installDb, string client, string directory, string extraOptions)
            {
                string data = Path.Combine(directory, "data");
                string tmp = Path.Combine(directory, "tmp");
                Directory.CreateDirectory(tmp);
                string user = Environment.UserName;
                await RunAsync(installDb, $"--no-defaults --datadir={data} --tmpdir={tmp} --user={user} --auth-root-authentication-method=normal --skip-test-db", TimeSpan.FromSeconds(60));

                int port = FreePort();
                string arguments =
                    $"--no-defaults --datadir={data} --port={port} --socket={Path.Combine(directory, "sock")} --bind-address=127.0.0.1 " +
                    $"--tmpdir={tmp} --pid-file={Path.Combine(directory, "pid")} --log-error={Path.Combine(directory, "error.log")} --user={user} " +
                    $"--log-bin={Path.Combine(data, "mysql-bin")} --binlog-format=ROW --server-id=1 --skip-name-resolve " +
                    "--plugin-load-add=auth_ed25519 --innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 " +
                    extraOptions;
                var process = Process.Start(new ProcessStartInfo(mariadbd, arguments)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                }) ?? throw new InvalidOperationException($"Could not start {mariadbd}.");
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var instance = new Instance(process, directory, client, port);
                try
                {
                    await instance.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
                }
                catch
                {
                    instance.Dispose();
                    throw;
                }

                return instance;
            }

            public Task RunSqlAsync(string sql) =>
                RunAsync(_client, $"--no-defaults --socket={Socket} -uroot -e \"{sql}\"", TimeSpan.FromSeconds(30));

            public void Dispose()
            {
                try
                {
                    if (!_process.HasExited)
                    {
                        _process.Kill(entireProcessTree: true);
                        _process.WaitForExit(10_000);
                    }
                }
                catch (InvalidOperationException)
                {
                }

                _process.Dispose();
            }

            private static async Task RunAsync(string executable, string arguments, TimeSpan timeout)
            {
                using var process = Process.Start(new ProcessStartInfo(executable, arguments)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                }) ?? throw new InvalidOperationException($"Could not start {executable}.");
                Task<string> output = process.StandardOutput.ReadToEndAsync();
                Task<string> error = process.StandardError.ReadToEndAsync();
                using var cts = new CancellationTokenSource(timeout);
                try
                {
                    await process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    throw new InvalidOperationException($"{executable} {arguments} did not finish within {timeout}.");
                }

                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"{executable} {arguments} failed with exit code {process.ExitCode}: {await error}{await output}");
                }
            }

            private async Task WaitUntilReadyAsync(TimeSpan timeout)
            {
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed < timeout)
                {
                    if (_process.HasExited)
                    {
                        throw new InvalidOperationException($"mariadbd exited with code {_process.ExitCode} during startup: {ReadErrorLog()}");
                    }

                    if (File.Exists(Socket))
                    {
                        try
                        {
                            using var probe = new TcpClient();
                            await probe.ConnectAsync(IPAddress.Loopback, Port);
                            return;
                        }
                        catch (SocketException)
                        {
                        }
                    }

                    await Task.Delay(100);
                }

                throw new InvalidOperationException($"mariadbd did not accept connections on port {Port} within {timeout}: {ReadErrorLog()}");
            }

            private string ReadErrorLog()
            {
                string log = Path.Combine(_directory, "error.log");
                return File.Exists(log) ? File.ReadAllText(log) : "(no error log)";
            }
        }
    }
}
