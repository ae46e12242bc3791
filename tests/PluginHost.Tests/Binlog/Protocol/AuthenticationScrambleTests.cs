using System.Security.Cryptography;
using System.Text;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Protocol.Authentication;

namespace PluginHost.Tests.Binlog.Protocol;

public sealed class AuthenticationScrambleTests
{
    private static readonly byte[] Scramble = Convert.FromHexString("3a2f5b6c7d0e1f20314253647586970a1b2c3d4e");

    [Fact]
    public void Native_password_is_accepted_by_the_server_side_check()
    {
        // Server side: it stores SHA1(SHA1(pw)) (PASSWORD('secret') = *14E6...), and checks
        // SHA1(XOR(response, SHA1(scramble + stored))) == stored.
        byte[] stored = Convert.FromHexString("14E65567ABDB5135D0CFD9A70B3032C179A49EE7");
        byte[] response = MySqlNativePasswordPlugin.ComputeResponse("secret"u8, Scramble);

        Assert.Equal(20, response.Length);
        byte[] mask = SHA1.HashData(Scramble.Concat(stored).ToArray());
        byte[] candidateStage1 = response.Zip(mask, (r, m) => (byte)(r ^ m)).ToArray();
        Assert.Equal(stored, SHA1.HashData(candidateStage1));
    }

    [Fact]
    public void Known_vectors_computed_with_Python_hashlib()
    {
        // python3: s1=sha1(b"secret"); s2=sha1(s1); xor(s1, sha1(scramble+s2))  and
        //          t1=sha256(b"secret"); t2=sha256(t1); xor(t1, sha256(t2+scramble))
        Assert.Equal(
            "e434b09dacfe712d84b7fb02d72cf950f4cb2387",
            Convert.ToHexStringLower(MySqlNativePasswordPlugin.ComputeResponse("secret"u8, Scramble)));
        Assert.Equal(
            "45cb8f3d111a4b4dc0c4226a925fe1ac86747e30f14a2634ca477ee9c829e9fd",
            Convert.ToHexStringLower(CachingSha2PasswordPlugin.ComputeScramble("secret"u8, Scramble)));
    }

    [Fact]
    public void Empty_password_gives_empty_responses()
    {
        Assert.Empty(MySqlNativePasswordPlugin.ComputeResponse([], Scramble));
        Assert.Empty(CachingSha2PasswordPlugin.ComputeScramble([], Scramble));
    }

    [Fact]
    public void Caching_sha2_is_accepted_by_the_server_side_check()
    {
        // Server side: it caches SHA256(SHA256(pw)) and checks SHA256(XOR(response, SHA256(cached + nonce))) == cached.
        byte[] cached = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes("s3cr€t")));
        byte[] response = CachingSha2PasswordPlugin.ComputeScramble(Encoding.UTF8.GetBytes("s3cr€t"), Scramble);

        Assert.Equal(32, response.Length);
        byte[] mask = SHA256.HashData([.. cached, .. Scramble]);
        byte[] candidate = response.Zip(mask, (r, m) => (byte)(r ^ m)).ToArray();
        Assert.Equal(cached, SHA256.HashData(candidate));
    }

    [Fact]
    public void RSA_encryption_round_trips_with_a_local_key()
    {
        using RSA key = RSA.Create(2048);
        string pem = key.ExportSubjectPublicKeyInfoPem();
        byte[] encrypted = RsaPasswordEncryptor.Encrypt("pässword"u8, Scramble, pem);

        Assert.Equal(256, encrypted.Length);
        byte[] decrypted = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
        byte[] unmasked = decrypted.Select((b, i) => (byte)(b ^ Scramble[i % Scramble.Length])).ToArray();
        Assert.Equal([.. "pässword"u8.ToArray(), 0], unmasked);
    }

    [Fact]
    public void RSA_encryption_accepts_PKCS1_public_key_PEM()
    {
        using RSA key = RSA.Create(2048);
        byte[] encrypted = RsaPasswordEncryptor.Encrypt("pw"u8, Scramble, key.ExportRSAPublicKeyPem());
        byte[] decrypted = key.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
        Assert.Equal(new byte[] { (byte)('p' ^ Scramble[0]), (byte)('w' ^ Scramble[1]), Scramble[2] }, decrypted);
    }

    [Fact]
    public void RSA_encryption_with_garbage_key_is_an_authentication_error()
    {
        var context = new AuthenticationContext("u", "pw", "db:3306", false, null, true);
        var error = Assert.Throws<MySqlAuthenticationException>(() => RsaPasswordEncryptor.Encrypt(context, "caching_sha2_password", Scramble, "not a key"));
        Assert.Contains("db:3306", error.Message);
    }

    [Fact]
    public void Caching_sha2_full_authentication_over_TLS_sends_clear_password()
    {
        var plugin = new CachingSha2PasswordPlugin();
        var context = new AuthenticationContext("u", "pw", "db:3306", isSecureTransport: true, null, true);
        plugin.CreateInitialResponse(context, Scramble);
        Assert.Equal(new byte[] { (byte)'p', (byte)'w', 0 }, plugin.ContinueAuthentication(context, [0x04]));
    }

    [Fact]
    public void Caching_sha2_full_authentication_without_TLS_and_without_key_retrieval_fails()
    {
        var plugin = new CachingSha2PasswordPlugin();
        var context = new AuthenticationContext("u", "pw", "db:3306", isSecureTransport: false, null, allowPublicKeyRetrieval: false);
        plugin.CreateInitialResponse(context, Scramble);
        Assert.Null(plugin.ContinueAuthentication(new AuthenticationContext("u", "pw", "db:3306", false, null, false), [0x03]));
        var fresh = new CachingSha2PasswordPlugin();
        fresh.CreateInitialResponse(context, Scramble);
        var error = Assert.Throws<MySqlAuthenticationException>(() => fresh.ContinueAuthentication(context, [0x04]));
        Assert.Contains("SslMode", error.Message);
    }

    [Fact]
    public void Clear_password_is_refused_without_TLS()
    {
        var plugin = new ClearPasswordPlugin();
        var error = Assert.Throws<MySqlAuthenticationException>(() =>
            plugin.CreateInitialResponse(new AuthenticationContext("u", "pw", "db:3306", false, null, true), []));
        Assert.Contains("clear", error.Message);
        Assert.Equal(new byte[] { (byte)'p', (byte)'w', 0 }, plugin.CreateInitialResponse(new AuthenticationContext("u", "pw", "db:3306", true, null, true), []));
    }
}
