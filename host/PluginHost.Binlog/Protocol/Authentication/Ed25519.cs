using System.Numerics;
using System.Security.Cryptography;

namespace PluginHost.Binlog.Protocol.Authentication;

/// <summary>
/// Minimal Ed25519 signing (RFC 8032 section 5.1) on twisted Edwards extended coordinates with
/// <see cref="BigInteger"/> arithmetic. Not constant time; meant for one signature per login.
/// </summary>
/// <remarks>
/// The "seed" (private key) may have any length: RFC 8032 uses 32-byte seeds, MariaDB's client_ed25519
/// uses the password bytes. The algorithm is otherwise identical: h = SHA-512(seed), a = clamp(h[0..32]),
/// A = aB, r = SHA-512(h[32..64] || M) mod L, R = rB, S = (r + SHA-512(R || A || M)·a) mod L.
/// </remarks>
internal static class Ed25519
{
    /// <summary>Size of an encoded point / public key.</summary>
    public const int PublicKeySize = 32;

    /// <summary>Size of a signature (R || S).</summary>
    public const int SignatureSize = 64;

    private static readonly BigInteger P = (BigInteger.One << 255) - 19;

    private static readonly BigInteger L = (BigInteger.One << 252) + BigInteger.Parse("27742317777372353535851937790883648493");

    private static readonly BigInteger D = Mod(-121665 * Inverse(121666));

    private static readonly BigInteger D2 = Mod(2 * D);

    private static readonly ExtendedPoint BasePoint = CreateBasePoint();

    private static readonly ExtendedPoint Identity = new(BigInteger.Zero, BigInteger.One, BigInteger.One, BigInteger.Zero);

    /// <summary>Derives the 32-byte public key A from a seed of any length.</summary>
    public static byte[] GetPublicKey(ReadOnlySpan<byte> seed)
    {
        Span<byte> h = stackalloc byte[64];
        SHA512.HashData(seed, h);
        BigInteger a = ClampScalar(h.Slice(0, 32));
        return Encode(Multiply(a, BasePoint));
    }

    /// <summary>Signs <paramref name="message"/> with the key derived from <paramref name="seed"/>; returns R || S (64 bytes).</summary>
    public static byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> seed)
    {
        Span<byte> h = stackalloc byte[64];
        SHA512.HashData(seed, h);
        BigInteger a = ClampScalar(h.Slice(0, 32));
        byte[] publicKey = Encode(Multiply(a, BasePoint));

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        sha.AppendData(h.Slice(32, 32));
        sha.AppendData(message);
        BigInteger r = FromLittleEndian(sha.GetHashAndReset()) % L;
        byte[] encodedR = Encode(Multiply(r, BasePoint));

        sha.AppendData(encodedR);
        sha.AppendData(publicKey);
        sha.AppendData(message);
        BigInteger k = FromLittleEndian(sha.GetHashAndReset()) % L;
        BigInteger s = (r + (k * a)) % L;

        byte[] signature = new byte[SignatureSize];
        encodedR.CopyTo(signature, 0);
        WriteLittleEndian32(s, signature.AsSpan(32));
        return signature;
    }

    private static BigInteger ClampScalar(ReadOnlySpan<byte> lowerHalf)
    {
        Span<byte> scalar = stackalloc byte[32];
        lowerHalf.CopyTo(scalar);
        scalar[0] &= 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        return FromLittleEndian(scalar);
    }

    private static ExtendedPoint CreateBasePoint()
    {
        BigInteger x = BigInteger.Parse("15112221349535400772501151409588531511454012693041857206046113283949847762202");
        BigInteger y = BigInteger.Parse("46316835694926478169428394003475163141307993866256225615783033603165251855960");
        return new ExtendedPoint(x, y, BigInteger.One, Mod(x * y));
    }

    private static ExtendedPoint Multiply(BigInteger scalar, ExtendedPoint point)
    {
        ExtendedPoint result = Identity;
        ExtendedPoint addend = point;
        while (!scalar.IsZero)
        {
            if (!scalar.IsEven)
            {
                result = Add(result, addend);
            }

            addend = Add(addend, addend);
            scalar >>= 1;
        }

        return result;
    }

    // RFC 8032 5.1.4: unified addition in extended coordinates (valid for doubling as well).
    private static ExtendedPoint Add(in ExtendedPoint p, in ExtendedPoint q)
    {
        BigInteger a = Mod((p.Y - p.X) * (q.Y - q.X));
        BigInteger b = Mod((p.Y + p.X) * (q.Y + q.X));
        BigInteger c = Mod(p.T * D2 % P * q.T);
        BigInteger d = Mod(2 * p.Z * q.Z);
        BigInteger e = b - a;
        BigInteger f = d - c;
        BigInteger g = d + c;
        BigInteger h = b + a;
        return new ExtendedPoint(Mod(e * f), Mod(g * h), Mod(f * g), Mod(e * h));
    }

    private static byte[] Encode(in ExtendedPoint point)
    {
        BigInteger zInverse = Inverse(point.Z);
        BigInteger x = Mod(point.X * zInverse);
        BigInteger y = Mod(point.Y * zInverse);
        byte[] encoded = new byte[PublicKeySize];
        WriteLittleEndian32(y, encoded);
        if (!x.IsEven)
        {
            encoded[31] |= 0x80;
        }

        return encoded;
    }

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    private static BigInteger Mod(BigInteger value)
    {
        BigInteger result = value % P;
        return result.Sign < 0 ? result + P : result;
    }

    private static BigInteger FromLittleEndian(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: false);

    private static void WriteLittleEndian32(BigInteger value, Span<byte> destination)
    {
        destination.Slice(0, 32).Clear();
        if (!value.TryWriteBytes(destination.Slice(0, 32), out _, isUnsigned: true, isBigEndian: false))
        {
            throw new InvalidOperationException("Ed25519 value does not fit in 32 bytes.");
        }
    }

    private readonly record struct ExtendedPoint(BigInteger X, BigInteger Y, BigInteger Z, BigInteger T);
}
