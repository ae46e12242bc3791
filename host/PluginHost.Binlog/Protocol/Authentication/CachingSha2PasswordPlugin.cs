using System.Security.Cryptography;
using System.Text;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>
/// caching_sha2_password (MySQL 8 default). Fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce).
/// AuthMoreData 0x03 = fast auth succeeded, 0x04 = full authentication: the password + NUL in clear over
/// TLS, otherwise RSA-OAEP encrypted (password + NUL XOR nonce) with the server's public key, which is
/// requested with 0x02 unless configured.
/// </summary>
internal sealed class CachingSha2PasswordPlugin : IAuthenticationPlugin
{
    /// <summary>Plugin name.</summary>
    public const string PluginName = "caching_sha2_password";

    /// <summary>AuthMoreData status: the cached fast authentication succeeded, an OK packet follows.</summary>
    public const byte FastAuthSuccess = 0x03;

    /// <summary>AuthMoreData status: full authentication is required.</summary>
    public const byte PerformFullAuthentication = 0x04;

    /// <summary>Client request for the server's RSA public key.</summary>
    public const byte RequestPublicKey = 0x02;

    private const int NonceLength = 20;

    private byte[] _nonce = [];
    private State _state;

    private enum State
    {
        Initial,
        AwaitingPublicKey,
        Finished,
    }

    /// <inheritdoc />
    public string Name => PluginName;

    /// <summary>Computes the 32-byte fast-path scramble (empty for an empty password).</summary>
    public static byte[] ComputeScramble(ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce)
    {
        if (password.IsEmpty)
        {
            return [];
        }

        Span<byte> stage1 = stackalloc byte[32];
        Span<byte> stage2 = stackalloc byte[32];
        SHA256.HashData(password, stage1);
        SHA256.HashData(stage1, stage2);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(stage2);
        sha.AppendData(nonce);
        byte[] result = sha.GetHashAndReset();
        for (int i = 0; i < result.Length; i++)
        {
            result[i] ^= stage1[i];
        }

        return result;
    }

    /// <inheritdoc />
    public byte[] CreateInitialResponse(AuthenticationContext context, ReadOnlySpan<byte> authData)
    {
        if (authData.Length < NonceLength)
        {
            throw new MySqlProtocolException($"{PluginName}: the server nonce has {authData.Length} bytes, {NonceLength} expected.");
        }

        _nonce = authData.Slice(0, NonceLength).ToArray();
        _state = State.Initial;
        return ComputeScramble(context.PasswordBytes, _nonce);
    }

    /// <inheritdoc />
    public byte[]? ContinueAuthentication(AuthenticationContext context, ReadOnlySpan<byte> moreData)
    {
        if (_state == State.AwaitingPublicKey)
        {
            _state = State.Finished;
            return RsaPasswordEncryptor.Encrypt(context, PluginName, _nonce, Encoding.ASCII.GetString(moreData));
        }

        if (_state == State.Initial && moreData.Length == 1)
        {
            switch (moreData[0])
            {
                case FastAuthSuccess:
                    return null;
                case PerformFullAuthentication:
                    return StartFullAuthentication(context);
            }
        }

        throw new MySqlProtocolException($"{PluginName}: unexpected AuthMoreData packet from {context.Endpoint} ({moreData.Length} bytes).");
    }

    private byte[] StartFullAuthentication(AuthenticationContext context)
    {
        _state = State.Finished;
        if (context.IsSecureTransport)
        {
            byte[] clear = new byte[context.PasswordBytes.Length + 1];
            context.PasswordBytes.CopyTo(clear, 0);
            return clear;
        }

        if (context.ServerPublicKeyPem is not null)
        {
            return RsaPasswordEncryptor.Encrypt(context, PluginName, _nonce, context.ServerPublicKeyPem);
        }

        if (!context.AllowPublicKeyRetrieval)
        {
            throw context.Fail(
                PluginName,
                $"The server {context.Endpoint} requires full caching_sha2_password authentication for user '{context.User}', which needs TLS " +
                "or the server's RSA public key: use SslMode=Required (or stronger), set ServerRsaPublicKeyFile, or enable AllowPublicKeyRetrieval.");
        }

        _state = State.AwaitingPublicKey;
        return [RequestPublicKey];
    }
}
