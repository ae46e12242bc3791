using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;

namespace PluginHost.Tests.Binlog;

/// <summary>
/// The binlog's CRC32 (System.IO.Hashing's, since issue 18 replaced our own Crc32.cs; the two agreed on 6,000 random
/// buffers before ours was deleted): known check values, zlib's results, and a reused instance as the decoder uses it.
/// </summary>
public unsafe class Crc32Tests
{
    [DllImport("libz.so.1", EntryPoint = "crc32")]
    private static extern nuint ZlibCrc32(nuint crc, byte* buf, uint len);

    private static uint Zlib(uint crc, ReadOnlySpan<byte> data)
    {
        // zlib returns 0 for a null buffer, so never pass one (an empty span pins to null).
        byte dummy = 0;
        fixed (byte* p = data) return (uint)ZlibCrc32(crc, p == null ? &dummy : p, (uint)data.Length);
    }

    /// <summary>The decoder's way: one instance, reset before each event.</summary>
    private static uint Reused(Crc32 crc, ReadOnlySpan<byte> data)
    {
        crc.Reset();
        crc.Append(data);
        return crc.GetCurrentHashAsUInt32();
    }

    [Fact]
    public void Known_check_values_are_computed()
    {
        var crc = new Crc32();
        Assert.Equal(0xCBF43926u, Crc32.HashToUInt32("123456789"u8));
        Assert.Equal(0xCBF43926u, Reused(crc, "123456789"u8));
        Assert.Equal(0u, Reused(crc, []));
        Assert.Equal(0x414FA339u, Reused(crc, Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Fact]
    public void Matches_zlib_on_random_data_of_every_length_up_to_5000()
    {
        var r = new Random(2024);
        var buffer = new byte[5000 + 64];
        r.NextBytes(buffer);
        var crc = new Crc32();
        for (var length = 0; length <= 5000; length++)
        {
            var offset = r.Next(16); // vary alignment
            var data = buffer.AsSpan(offset, length);
            var expected = Zlib(0, data);
            Assert.Equal(expected, Crc32.HashToUInt32(data));
            Assert.Equal(expected, Reused(crc, data));
        }
    }

    [Fact]
    public void Matches_zlib_on_large_and_special_buffers()
    {
        var r = new Random(7);
        var crc = new Crc32();
        foreach (var length in new[] { 64, 65, 127, 128, 4096, 65_536, 1_000_003, 8 << 20 })
        {
            var data = new byte[length];
            r.NextBytes(data);
            Assert.Equal(Zlib(0, data), Reused(crc, data));
            Array.Fill(data, (byte)0xff);
            Assert.Equal(Zlib(0, data), Reused(crc, data));
            Array.Clear(data);
            Assert.Equal(Zlib(0, data), Reused(crc, data));
        }
    }

    [Fact]
    public void Append_is_incremental_and_reset_starts_over()
    {
        var r = new Random(3);
        var data = new byte[3000];
        r.NextBytes(data);
        var whole = Zlib(0, data);
        var crc = new Crc32();
        for (var i = 0; i < 200; i++)
        {
            var a = r.Next(data.Length + 1);
            var b = r.Next(a, data.Length + 1);
            crc.Reset();
            crc.Append(data.AsSpan(0, a));
            crc.Append(data.AsSpan(a, b - a));
            crc.Append(data.AsSpan(b));
            Assert.Equal(whole, crc.GetCurrentHashAsUInt32());
        }
    }

    [Fact]
    public void One_decoder_verifies_event_after_event_and_names_a_damaged_one()
    {
        var decoder = new BinlogEventDecoder(ChecksumAlgorithm.Crc32);
        for (var i = 1; i <= 3; i++)
        {
            var heartbeat = Heartbeat($"log-bin.{i:D6}");
            Assert.IsType<HeartbeatEvent>(decoder.Decode(heartbeat));
        }
        var damaged = Heartbeat("log-bin.000004");
        damaged[^6] ^= 1;
        var e = Assert.Throws<BinlogFormatException>(() => decoder.Decode(damaged));
        Assert.Contains("CRC32 checksum mismatch", e.Message);
        Assert.IsType<HeartbeatEvent>(decoder.Decode(Heartbeat("log-bin.000005"))); // the instance is reset, not poisoned
    }

    private static byte[] Heartbeat(string file)
    {
        var name = Encoding.ASCII.GetBytes(file);
        var e = new byte[19 + name.Length + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(0), 0);
        e[4] = (byte)BinlogEventType.Heartbeat;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(5), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(9), (uint)e.Length);
        name.CopyTo(e, 19);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(e.Length - 4), Crc32.HashToUInt32(e.AsSpan(0, e.Length - 4)));
        return e;
    }
}
