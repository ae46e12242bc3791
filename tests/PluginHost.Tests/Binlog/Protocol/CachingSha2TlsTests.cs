using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Binlog.Protocol.FakePackets;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>
/// caching_sha2_password as the server's initial plugin, against the scripted server with real TLS (a self-signed
/// certificate made here): SSLRequest, TLS handshake, then full authentication with the password in clear, or the fast path.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CachingSha2TlsTests
{
    private const string Password = "s3cret-ü";
    private const uint ClientSsl = 0x00000800;

    private static readonly byte[] Nonce = Enumerable.Range(1, 20).Select(i => (byte)(i * 13 + 1)).ToArray();

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, with its private key.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake-mysql", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12 so that the key is usable by the TLS server on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static ConnectionOptions Options(int port, SslMode mode, string? caFile = null) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        User = "repl",
        Password = Password,
        SslMode = mode,
        SslCaFile = caFile,
        AllowPublicKeyRetrieval = false, // over TLS no RSA key is needed
        ConnectTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>Receives the SSLRequest (capabilities with CLIENT_SSL, max packet, charset, 23 zero bytes) and starts TLS.</summary>
    private static async Task AcceptTlsAsync(FakeSession s, X509Certificate2 certificate)
    {
        byte[] sslRequest = await s.ReceiveAsync(1);
        Assert.Equal(32, sslRequest.Length);
        uint capabilities = BitConverter.ToUInt32(sslRequest, 0);
        Assert.NotEqual(0u, capabilities & ClientSsl);
        Assert.Equal(new byte[23], sslRequest[9..]);
        await s.StartTlsAsync(certificate);
    }

    /// <summary>Checks the handshake response after TLS: CLIENT_SSL still set, user, 32-byte scramble, plugin name.</summary>
    private static void AssertSha2Response(byte[] response)
    {
        Assert.NotEqual(0u, BitConverter.ToUInt32(response, 0) & ClientSsl);
        Assert.Equal("repl\0", Encoding.ASCII.GetString(response, 32, 5));
        Assert.Equal(32, response[37]);
        byte[] scramble = response.AsSpan(38, 32).ToArray();
        byte[] cached = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes(Password)));
        byte[] mask = SHA256.HashData([.. cached, .. Nonce]);
        Assert.Equal(cached, SHA256.HashData(scramble.Select((b, i) => (byte)(b ^ mask[i])).ToArray()));
        Assert.Equal("caching_sha2_password\0", Encoding.ASCII.GetString(response, 70, response.Length - 70));
    }

    [Fact]
    public async Task Full_authentication_over_tls_sends_the_password_in_clear_with_a_nul()
    {
        using X509Certificate2 certificate = SelfSigned();
        var dir = TestTemp.CreateSubdirectory("sha2-tls");
        string caFile = Path.Combine(dir.FullName, "ca.pem");
        await File.WriteAllTextAsync(caFile, certificate.ExportCertificatePem());

        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 12, Nonce, MySql8Capabilities | ClientSsl, "caching_sha2_password"));
            await AcceptTlsAsync(s, certificate);

            AssertSha2Response(await s.ReceiveAsync(2));
            await s.SendAsync(3, [0x01, 0x04]); // AuthMoreData: perform full authentication
            Assert.Equal(Concat(Encoding.UTF8.GetBytes(Password), [0]), await s.ReceiveAsync(4));
            await s.SendAsync(5, Ok());

            Assert.Equal(new byte[] { 0x0E }, await s.ReceiveAsync(0)); // COM_PING, over TLS
            await s.SendAsync(1, Ok());
            Assert.Equal(new byte[] { 0x01 }, await s.ReceiveAsync(0)); // COM_QUIT on dispose
        });

        await using (MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port, SslMode.VerifyFull, caFile)))
        {
            Assert.True(connection.IsTlsEnabled);
            Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
            await connection.PingAsync();
        }

        await server.CompleteAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fast_path_as_the_initial_plugin_sends_only_the_scramble(bool tls)
    {
        using X509Certificate2 certificate = SelfSigned();
        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 13, Nonce, tls ? MySql8Capabilities | ClientSsl : MySql8Capabilities, "caching_sha2_password"));
            byte seq = 1;
            if (tls)
            {
                await AcceptTlsAsync(s, certificate);
                seq = 2;
            }

            byte[] response = await s.ReceiveAsync(seq++);
            if (tls)
            {
                AssertSha2Response(response);
            }
            else
            {
                Assert.Equal(0u, BitConverter.ToUInt32(response, 0) & ClientSsl);
                Assert.Equal(32, response[37]);
            }

            await s.SendAsync(seq++, [0x01, 0x03]); // AuthMoreData: fast authentication succeeded
            await s.SendAsync(seq, Ok());           // then the OK, with no client packet in between

            // The next packet the client sends is a command, not a password.
            Assert.Equal(new byte[] { 0x0E }, await s.ReceiveAsync(0));
            await s.SendAsync(1, Ok());
        });

        await using (MySqlProtocolConnection connection = await MySqlProtocolConnection.OpenAsync(Options(server.Port, tls ? SslMode.Required : SslMode.Preferred)))
        {
            Assert.Equal(tls, connection.IsTlsEnabled);
            Assert.Equal("caching_sha2_password", connection.AuthenticationPlugin);
            await connection.PingAsync();
        }

        await server.CompleteAsync();
    }

    [Fact]
    public async Task Verify_full_rejects_a_certificate_not_issued_by_the_configured_ca()
    {
        using X509Certificate2 certificate = SelfSigned();
        using X509Certificate2 otherCa = SelfSigned();
        var dir = TestTemp.CreateSubdirectory("sha2-tls-bad-ca");
        string caFile = Path.Combine(dir.FullName, "other-ca.pem");
        await File.WriteAllTextAsync(caFile, otherCa.ExportCertificatePem());

        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, Handshake("8.0.36", 14, Nonce, MySql8Capabilities | ClientSsl, "caching_sha2_password"));
            await s.ReceiveAsync(1);
            try
            {
                await s.StartTlsAsync(certificate);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // The client aborts the handshake.
            }
        });

        var error = await Assert.ThrowsAsync<MySqlConnectionException>(() => MySqlProtocolConnection.OpenAsync(Options(server.Port, SslMode.VerifyFull, caFile)));
        Assert.Contains("TLS certificate validation failed", error.Message);
        Assert.Contains(caFile, error.Message);
    }
}
