using System.Security.Cryptography;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).</summary>
internal sealed class MySqlNativePasswordPlugin : IAuthenticationPlugin
{
    /// <summary>Plugin name.</summary>
    public const string PluginName = "mysql_native_password";

    /// <summary>Length of the scramble used by this plugin.</summary>
    public const int ScrambleLength = 20;

    /// <inheritdoc />
    public string Name => PluginName;

    /// <summary>Computes the 20-byte response (empty for an empty password).</summary>
    /// <param name="password">UTF-8 password.</param>
    /// <param name="scramble">At least 20 bytes of server scramble; only the first 20 are used.</param>
    public static byte[] ComputeResponse(ReadOnlySpan<byte> password, ReadOnlySpan<byte> scramble)
    {
        if (password.IsEmpty)
        {
            return [];
        }

        if (scramble.Length < ScrambleLength)
        {
            throw new MySqlProtocolException($"{PluginName}: the server scramble has {scramble.Length} bytes, {ScrambleLength} expected.");
        }

        Span<byte> stage1 = stackalloc byte[20];
        Span<byte> stage2 = stackalloc byte[20];
        SHA1.HashData(password, stage1);
        SHA1.HashData(stage1, stage2);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(scramble.Slice(0, ScrambleLength));
        sha1.AppendData(stage2);
        byte[] result = sha1.GetHashAndReset();
        for (int i = 0; i < result.Length; i++)
        {
            result[i] ^= stage1[i];
        }

        return result;
    }

    /// <inheritdoc />
    public byte[] CreateInitialResponse(AuthenticationContext context, ReadOnlySpan<byte> authData) =>
        ComputeResponse(context.PasswordBytes, authData);

    /// <inheritdoc />
    public byte[]? ContinueAuthentication(AuthenticationContext context, ReadOnlySpan<byte> moreData) =>
        throw new MySqlProtocolException($"{PluginName}: unexpected AuthMoreData packet from {context.Endpoint}.");
}
