using System.Runtime.InteropServices;
using System.Text;
using PluginHost.Binlog;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog;

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

    [Fact]
    public void Known_check_values_are_computed()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0xCBF43926u, Crc32.AppendScalar(0, "123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
        Assert.Equal(0x414FA339u, Crc32.Compute(Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Fact]
    public void Matches_zlib_on_random_data_of_every_length_up_to_5000()
    {
        var r = new Random(2024);
        var buffer = new byte[5000 + 64];
        r.NextBytes(buffer);
        for (var length = 0; length <= 5000; length++)
        {
            var offset = r.Next(16); // vary alignment
            var data = buffer.AsSpan(offset, length);
            var expected = Zlib(0, data);
            Assert.Equal(expected, Crc32.Compute(data));
            Assert.Equal(expected, Crc32.AppendScalar(0, data));
            var seed = (uint)r.Next();
            var expectedSeeded = Zlib(seed, data);
            Assert.Equal(expectedSeeded, Crc32.Append(seed, data));
            Assert.Equal(expectedSeeded, Crc32.AppendScalar(seed, data));
        }
    }

    [Fact]
    public void Matches_zlib_on_large_and_special_buffers()
    {
        var r = new Random(7);
        foreach (var length in new[] { 64, 65, 127, 128, 4096, 65_536, 1_000_003, 8 << 20 })
        {
            var data = new byte[length];
            r.NextBytes(data);
            Assert.Equal(Zlib(0, data), Crc32.Compute(data));
            Array.Fill(data, (byte)0xff);
            Assert.Equal(Zlib(0, data), Crc32.Compute(data));
            Array.Clear(data);
            Assert.Equal(Zlib(0, data), Crc32.Compute(data));
        }
    }

    [Fact]
    public void Append_is_incremental()
    {
        var r = new Random(3);
        var data = new byte[3000];
        r.NextBytes(data);
        var whole = Crc32.Compute(data);
        for (var i = 0; i < 200; i++)
        {
            var a = r.Next(data.Length + 1);
            var b = r.Next(a, data.Length + 1);
            var crc = Crc32.Append(Crc32.Append(Crc32.Compute(data.AsSpan(0, a)), data.AsSpan(a, b - a)), data.AsSpan(b));
            Assert.Equal(whole, crc);
        }
    }
}
