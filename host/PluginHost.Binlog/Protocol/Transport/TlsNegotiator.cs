using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PluginHost.Binlog.Protocol.Transport;

/// <summary>Upgrades the transport to TLS and validates the server certificate according to <see cref="SslMode"/>.</summary>
internal static class TlsNegotiator
{
    /// <summary>Performs the TLS client handshake over <paramref name="inner"/> (which the returned stream then owns).</summary>
    /// <exception cref="MySqlConnectionException">Handshake or certificate validation failed.</exception>
    public static async Task<SslStream> AuthenticateAsync(Stream inner, ConnectionOptions options, CancellationToken cancellationToken)
    {
        SslMode mode = options.SslMode;
        string endpoint = options.Endpoint;
        X509Certificate2Collection? trustedRoots = mode >= SslMode.VerifyCa && options.SslCaFile is not null
            ? LoadCertificates(options.SslCaFile, endpoint)
            : null;

        SslPolicyErrors observedErrors = SslPolicyErrors.None;
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = options.Host.StartsWith('[') && options.Host.EndsWith(']') ? options.Host[1..^1] : options.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, _, _, errors) =>
            {
                observedErrors = errors;
                return IsAcceptable(mode, errors);
            },
        };

        if (trustedRoots is not null)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(trustedRoots);
            authentication.CertificateChainPolicy = policy;
        }

        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(authentication, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (AuthenticationException ex) when (observedErrors != SslPolicyErrors.None && !IsAcceptable(mode, observedErrors))
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new MySqlConnectionException(DescribeValidationFailure(options, observedErrors), ex);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new MySqlConnectionException($"The TLS handshake with {endpoint} failed (SslMode={mode}): {ex.Message}", ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Decides whether a certificate with the given validation errors is accepted in <paramref name="mode"/>.</summary>
    internal static bool IsAcceptable(SslMode mode, SslPolicyErrors errors) => mode switch
    {
        SslMode.VerifyFull => errors == SslPolicyErrors.None,
        SslMode.VerifyCa => (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None,
        _ => true, // Preferred / Required: encryption without certificate validation.
    };

    private static string DescribeValidationFailure(ConnectionOptions options, SslPolicyErrors errors)
    {
        var problems = new List<string>();
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            problems.Add("the server did not present a certificate");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            problems.Add(options.SslCaFile is null
                ? "the server certificate is not issued by a CA trusted by this system (set SslCaFile to the CA that signed it)"
                : $"the server certificate is not issued by the CA in '{options.SslCaFile}'");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            problems.Add($"the server certificate does not match the host name '{options.Host}' " +
                "(connect using a name listed in the certificate, or use SslMode=VerifyCa to skip the host-name check)");
        }

        return $"TLS certificate validation failed for {options.Endpoint} (SslMode={options.SslMode}): {string.Join("; ", problems)}.";
    }

    private static X509Certificate2Collection LoadCertificates(string path, string endpoint)
    {
        if (!File.Exists(path))
        {
            throw new MySqlConnectionException($"The SSL CA file '{path}' (for {endpoint}) does not exist.");
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            string text = File.ReadAllText(path);
            if (text.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                certificates.ImportFromPem(text);
            }
            else
            {
                certificates.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
        }
        catch (CryptographicException ex)
        {
            throw new MySqlConnectionException($"The SSL CA file '{path}' (for {endpoint}) could not be read as PEM or DER certificates: {ex.Message}", ex);
        }

        if (certificates.Count == 0)
        {
            throw new MySqlConnectionException($"The SSL CA file '{path}' (for {endpoint}) contains no certificate.");
        }

        return certificates;
    }
}
