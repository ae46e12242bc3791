using System.Security.Cryptography;
using System.Text;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Standard Webhooks signatures (https://www.standardwebhooks.com): <c>webhook-signature: v1,&lt;base64 HMAC-SHA256 of
/// "{webhook-id}.{webhook-timestamp}.{body}"&gt;</c>, keyed with the base64 secret after its <c>whsec_</c> prefix.
/// </summary>
public sealed class StandardWebhookSigner
{
    public const string Prefix = "whsec_";
    private readonly byte[] _key;

    public StandardWebhookSigner(byte[] key) => _key = key;

    /// <summary>Parses <c>whsec_&lt;base64&gt;</c> (the prefix is optional, as in the reference libraries).</summary>
    public static bool TryParseSecret(string secret, out byte[] key)
    {
        key = [];
        var text = secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret;
        if (text.Length == 0) return false;
        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var n) || n == 0) return false;
        key = buffer[..n];
        return true;
    }

    /// <summary>The <c>webhook-signature</c> value for one request.</summary>
    public string Sign(string id, long timestamp, ReadOnlySpan<byte> body)
    {
        using var h = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        h.AppendData(Encoding.UTF8.GetBytes(id));
        Span<byte> sep = stackalloc byte[24];
        sep[0] = (byte)'.';
        timestamp.TryFormat(sep[1..], out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
        sep[n + 1] = (byte)'.';
        h.AppendData(sep[..(n + 2)]);
        h.AppendData(body);
        Span<byte> mac = stackalloc byte[32];
        h.GetHashAndReset(mac);
        return "v1," + Convert.ToBase64String(mac);
    }
}
