using System.Security.Cryptography;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>RSA password encryption used by caching_sha2_password over unencrypted connections.</summary>
internal static class RsaPasswordEncryptor
{
    /// <summary>Encrypts (password + NUL) XOR nonce (repeated) with RSA-OAEP (SHA-1) under the PEM public key.</summary>
    /// <param name="password">UTF-8 password.</param>
    /// <param name="nonce">The server nonce (20 bytes).</param>
    /// <param name="publicKeyPem">"BEGIN PUBLIC KEY" (SubjectPublicKeyInfo) or "BEGIN RSA PUBLIC KEY" (PKCS#1) PEM.</param>
    public static byte[] Encrypt(ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce, string publicKeyPem)
    {
        if (nonce.IsEmpty)
        {
            throw new ArgumentException("The nonce must not be empty.", nameof(nonce));
        }

        byte[] plain = new byte[password.Length + 1];
        password.CopyTo(plain);
        for (int i = 0; i < plain.Length; i++)
        {
            plain[i] ^= nonce[i % nonce.Length];
        }

        using RSA rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        try
        {
            return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Like <see cref="Encrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, string)"/>, turning key problems into authentication errors.</summary>
    public static byte[] Encrypt(AuthenticationContext context, string pluginName, ReadOnlySpan<byte> nonce, string publicKeyPem)
    {
        try
        {
            return Encrypt(context.PasswordBytes, nonce, publicKeyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new MySqlAuthenticationException(
                $"Could not encrypt the password for user '{context.User}' at {context.Endpoint} with the server's RSA public key ({pluginName}): {ex.Message} " +
                "Check ServerRsaPublicKeyFile (a PEM RSA public key), or use TLS.",
                context.User,
                context.Endpoint,
                pluginName);
        }
    }
}
