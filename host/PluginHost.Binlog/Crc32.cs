using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ArmCrc = System.Runtime.Intrinsics.Arm.Crc32;

namespace PluginHost.Binlog;

/// <summary>
/// IEEE CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF): the checksum of zlib's
/// <c>crc32()</c> and of MySQL/MariaDB binlog events. On x86-64 with PCLMULQDQ it folds 64 bytes per step with
/// carry-less multiplication (Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" method);
/// on ARM64 it uses the CRC32 instructions; elsewhere slice-by-8 tables.
/// </summary>
internal static class Crc32
{
    /// <summary>Below this many bytes the table code is as fast as the vector setup.</summary>
    private const int VectorThreshold = 64;

    // Folding constants for the reflected polynomial, each (x^n mod P(x)) bit-reflected and shifted left by one:
    // fold by 512 bits: x^(512+32), x^(512-32); fold by 128 bits: x^(128+32), x^(128-32); 64→32 bits: x^64.
    private const ulong K1 = 0x1_5444_2bd4; // x^544 mod P
    private const ulong K2 = 0x1_c6e4_1596; // x^480 mod P
    private const ulong K3 = 0x1_7519_97d0; // x^160 mod P
    private const ulong K4 = 0x0_ccaa_009e; // x^96 mod P
    private const ulong K5 = 0x1_63cd_6124; // x^64 mod P
    private const ulong PolyReflected = 0x1_db71_0641; // P(x) reflected, 33 bits
    private const ulong Mu = 0x1_f701_1641; // floor(x^64 / P(x)) reflected, 33 bits

    /// <summary>Slice-by-8 tables: table k at [k * 256, (k + 1) * 256).</summary>
    private static readonly uint[] s_table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Continues a CRC-32: <c>Append(Compute(a), b) == Compute(a + b)</c>, and <c>Append(0, x) == Compute(x)</c>
    /// (the same contract as zlib's <c>crc32(crc, buf, len)</c>).
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        if (data.Length >= VectorThreshold && Pclmulqdq.IsSupported && Sse41.IsSupported)
        {
            var blocks = data.Length & ~15;
            state = UpdatePclmul(state, data[..blocks]);
            data = data[blocks..];
        }
        else if (ArmCrc.Arm64.IsSupported)
        {
            return ~UpdateArm(state, data);
        }
        return ~UpdateTable(state, data);
    }

    /// <summary>The portable slice-by-8 path (exposed for tests).</summary>
    internal static uint AppendScalar(uint crc, ReadOnlySpan<byte> data) => ~UpdateTable(~crc, data);

    /// <summary>True when <see cref="Append"/> uses the carry-less multiplication path for long inputs.</summary>
    internal static bool IsVectorized => Pclmulqdq.IsSupported && Sse41.IsSupported;

    /// <summary>Slice-by-8 over a raw (pre-inverted) state.</summary>
    private static uint UpdateTable(uint state, ReadOnlySpan<byte> data)
    {
        ref var t = ref MemoryMarshal.GetArrayDataReference(s_table);
        while (data.Length >= 8)
        {
            var one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            var two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state =
                Unsafe.Add(ref t, 7 * 256 + (int)(one & 0xff)) ^
                Unsafe.Add(ref t, 6 * 256 + (int)((one >> 8) & 0xff)) ^
                Unsafe.Add(ref t, 5 * 256 + (int)((one >> 16) & 0xff)) ^
                Unsafe.Add(ref t, 4 * 256 + (int)(one >> 24)) ^
                Unsafe.Add(ref t, 3 * 256 + (int)(two & 0xff)) ^
                Unsafe.Add(ref t, 2 * 256 + (int)((two >> 8) & 0xff)) ^
                Unsafe.Add(ref t, 1 * 256 + (int)((two >> 16) & 0xff)) ^
                Unsafe.Add(ref t, (int)(two >> 24));
            data = data[8..];
        }
        foreach (var b in data)
            state = (state >> 8) ^ Unsafe.Add(ref t, (int)((state ^ b) & 0xff));
        return state;
    }

    private static uint UpdateArm(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = ArmCrc.Arm64.ComputeCrc32(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) state = ArmCrc.ComputeCrc32(state, b);
        return state;
    }

    /// <summary>
    /// Carry-less multiplication folding over a raw (pre-inverted) state. <paramref name="data"/> is at least
    /// 64 bytes and a multiple of 16 bytes long.
    /// </summary>
    private static uint UpdatePclmul(uint state, ReadOnlySpan<byte> data)
    {
        ref var p = ref MemoryMarshal.GetReference(data);
        var length = data.Length;

        var x1 = Vector128.LoadUnsafe(ref p, 0).AsUInt64();
        var x2 = Vector128.LoadUnsafe(ref p, 16).AsUInt64();
        var x3 = Vector128.LoadUnsafe(ref p, 32).AsUInt64();
        var x4 = Vector128.LoadUnsafe(ref p, 48).AsUInt64();
        x1 ^= Vector128.CreateScalar(state).AsUInt64();
        nuint offset = 64;
        length -= 64;

        // Four independent 128-bit lanes, each folded forward by 512 bits.
        var k1k2 = Vector128.Create(K1, K2);
        while (length >= 64)
        {
            x1 = Fold(x1, k1k2) ^ Vector128.LoadUnsafe(ref p, offset).AsUInt64();
            x2 = Fold(x2, k1k2) ^ Vector128.LoadUnsafe(ref p, offset + 16).AsUInt64();
            x3 = Fold(x3, k1k2) ^ Vector128.LoadUnsafe(ref p, offset + 32).AsUInt64();
            x4 = Fold(x4, k1k2) ^ Vector128.LoadUnsafe(ref p, offset + 48).AsUInt64();
            offset += 64;
            length -= 64;
        }

        // Fold the four lanes into one, then any remaining 16-byte blocks.
        var k3k4 = Vector128.Create(K3, K4);
        x1 = Fold(x1, k3k4) ^ x2;
        x1 = Fold(x1, k3k4) ^ x3;
        x1 = Fold(x1, k3k4) ^ x4;
        while (length >= 16)
        {
            x1 = Fold(x1, k3k4) ^ Vector128.LoadUnsafe(ref p, offset).AsUInt64();
            offset += 16;
            length -= 16;
        }

        // 128 → 64 bits.
        var low32 = Vector128.Create(0xffff_ffffu, 0, 0xffff_ffffu, 0).AsUInt64();
        x1 = Sse2.ShiftRightLogical128BitLane(x1, 8) ^ Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x10);

        // 64 → 32 bits.
        var k5 = Vector128.Create(K5, 0UL);
        x1 = Pclmulqdq.CarrylessMultiply(x1 & low32, k5, 0x00) ^ Sse2.ShiftRightLogical128BitLane(x1, 4);

        // Barrett reduction to the 32-bit remainder.
        var poly = Vector128.Create(PolyReflected, Mu);
        var t = Pclmulqdq.CarrylessMultiply(x1 & low32, poly, 0x10) & low32;
        t = Pclmulqdq.CarrylessMultiply(t, poly, 0x00);
        x1 ^= t;
        return Sse41.Extract(x1.AsUInt32(), 1);
    }

    /// <summary>(low 64 bits × k.low) xor (high 64 bits × k.high).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> x, Vector128<ulong> k) =>
        Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        for (var n = 0; n < 256; n++)
        {
            var c = table[n];
            for (var k = 1; k < 8; k++)
            {
                c = table[c & 0xff] ^ (c >> 8);
                table[k * 256 + n] = c;
            }
        }
        return table;
    }
}
