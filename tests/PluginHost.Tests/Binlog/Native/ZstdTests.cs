using System.Runtime.InteropServices;
using PluginHost.Binlog.Native;

namespace PluginHost.Tests.Binlog.Native;

public unsafe class ZstdTests
{
    private const string Lib = "libzstd.so.1";

    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
    {
        public byte* Ptr;
        public nuint Size;
        public nuint Pos;
    }

    [DllImport(Lib)] private static extern nuint ZSTD_compressBound(nuint srcSize);
    [DllImport(Lib)] private static extern nuint ZSTD_compress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int level);
    [DllImport(Lib)] private static extern uint ZSTD_isError(nuint code);
    [DllImport(Lib)] private static extern ulong ZSTD_getFrameContentSize(byte* src, nuint srcSize);
    [DllImport(Lib)] private static extern nint ZSTD_createCStream();
    [DllImport(Lib)] private static extern nuint ZSTD_freeCStream(nint zcs);
    [DllImport(Lib)] private static extern nuint ZSTD_initCStream(nint zcs, int level);
    [DllImport(Lib)] private static extern nuint ZSTD_CCtx_setParameter(nint cctx, int param, int value);
    [DllImport(Lib)] private static extern nuint ZSTD_compressStream(nint zcs, Buffer* output, Buffer* input);
    [DllImport(Lib)] private static extern nuint ZSTD_endStream(nint zcs, Buffer* output);

    /// <summary>One-shot compression: the frame header records the content size.</summary>
    private static byte[] CompressKnownSize(byte[] src)
    {
        var dst = new byte[ZSTD_compressBound((nuint)src.Length)];
        fixed (byte* s = src)
        fixed (byte* d = dst)
        {
            var n = ZSTD_compress(d, (nuint)dst.Length, s, (nuint)src.Length, 3);
            Assert.Equal(0u, ZSTD_isError(n));
            return dst[..(int)n];
        }
    }

    /// <summary>Streaming compression without a pledged size: the content size is unknown, as in MySQL's payloads.</summary>
    private static byte[] CompressStreaming(byte[] src, bool checksum = false)
    {
        var zcs = ZSTD_createCStream();
        try
        {
            Assert.Equal(0u, ZSTD_isError(ZSTD_initCStream(zcs, 3)));
            if (checksum) Assert.Equal(0u, ZSTD_isError(ZSTD_CCtx_setParameter(zcs, 201 /* ZSTD_c_checksumFlag */, 1)));
            var dst = new byte[ZSTD_compressBound((nuint)src.Length) + 64];
            fixed (byte* s = src)
            fixed (byte* d = dst)
            {
                var output = new Buffer { Ptr = d, Size = (nuint)dst.Length };
                // Feed in chunks so the frame is built like a real stream.
                var pos = 0;
                while (pos < src.Length)
                {
                    var chunk = Math.Min(7000, src.Length - pos);
                    var input = new Buffer { Ptr = s + pos, Size = (nuint)chunk };
                    while (input.Pos < input.Size) Assert.Equal(0u, ZSTD_isError(ZSTD_compressStream(zcs, &output, &input)));
                    pos += chunk;
                }
                nuint left;
                do
                {
                    left = ZSTD_endStream(zcs, &output);
                    Assert.Equal(0u, ZSTD_isError(left));
                } while (left != 0);
                return dst[..(int)output.Pos];
            }
        }
        finally
        {
            ZSTD_freeCStream(zcs);
        }
    }

    private static ulong ContentSize(byte[] frame)
    {
        fixed (byte* f = frame) return ZSTD_getFrameContentSize(f, (nuint)frame.Length);
    }

    private static byte[] Sample(int length, int seed, bool compressible)
    {
        var r = new Random(seed);
        var data = new byte[length];
        if (!compressible)
        {
            r.NextBytes(data);
            return data;
        }
        var words = new[] { "INSERT ", "INTO ", "t1 ", "VALUES ", "(1, 'abc') ", "\0\0\0\u0001", "row" };
        var pos = 0;
        while (pos < length)
        {
            var w = words[r.Next(words.Length)];
            for (var i = 0; i < w.Length && pos < length; i++) data[pos++] = (byte)w[i];
        }
        return data;
    }

    public static TheoryData<int, bool> Sizes => new()
    {
        { 0, true }, { 1, false }, { 1000, true }, { 100_000, false }, { 300_000, true }, { 5_000_000, true },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Round_trip_with_known_content_size(int length, bool compressible)
    {
        var data = Sample(length, length, compressible);
        var frame = CompressKnownSize(data);
        Assert.Equal((ulong)length, ContentSize(frame));
        Assert.Equal(data, Zstd.Decompress(frame, -1));
        Assert.Equal(data, Zstd.Decompress(frame, length));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Round_trip_with_unknown_content_size(int length, bool compressible)
    {
        var data = Sample(length, length + 1, compressible);
        var frame = CompressStreaming(data);
        if (length > 0) // (an empty stream is written with content size 0)
            Assert.Equal(ulong.MaxValue, ContentSize(frame)); // ZSTD_CONTENTSIZE_UNKNOWN: exercises the streaming path
        Assert.Equal(data, Zstd.Decompress(frame, -1));
        Assert.Equal(data, Zstd.Decompress(frame, length));
    }

    [Fact]
    public void Concatenated_frames_decompress_to_their_concatenation()
    {
        var a = Sample(50_000, 1, true);
        var b = Sample(20_000, 2, false);
        byte[] expected = [.. a, .. b];
        byte[] known = [.. CompressKnownSize(a), .. CompressKnownSize(b)];
        Assert.Equal(expected, Zstd.Decompress(known, -1));
        Assert.Equal(expected, Zstd.Decompress(known, expected.Length));
        byte[] mixed = [.. CompressStreaming(a), .. CompressKnownSize(b)];
        Assert.Equal(expected, Zstd.Decompress(mixed, -1));
    }

    [Fact]
    public void Wrong_expected_size_is_reported()
    {
        var data = Sample(10_000, 3, true);
        foreach (var frame in new[] { CompressKnownSize(data), CompressStreaming(data) })
        {
            Assert.Contains("more than the expected 9999", Assert.Throws<InvalidDataException>(() => Zstd.Decompress(frame, 9999)).Message);
            Assert.Contains("expected 10001", Assert.Throws<InvalidDataException>(() => Zstd.Decompress(frame, 10_001)).Message);
        }
    }

    [Fact]
    public void Corrupt_input_gives_a_clear_exception()
    {
        var data = Sample(200_000, 4, true);

        var notZstd = "definitely not a zstd frame"u8.ToArray();
        Assert.Contains("not a zstd frame", Assert.Throws<InvalidDataException>(() => Zstd.Decompress(notZstd, -1)).Message);
        Assert.Contains("corrupt", Assert.Throws<InvalidDataException>(() => Zstd.Decompress(notZstd, 100)).Message);
        Assert.Throws<InvalidDataException>(() => Zstd.Decompress([], -1));

        foreach (var frame in new[] { CompressKnownSize(data), CompressStreaming(data) })
        {
            var truncated = frame[..(frame.Length / 2)];
            Assert.Throws<InvalidDataException>(() => Zstd.Decompress(truncated, -1));
            Assert.Throws<InvalidDataException>(() => Zstd.Decompress(truncated, data.Length));
            Assert.Throws<InvalidDataException>(() => Zstd.Decompress(frame[..^1], -1));

            byte[] trailingGarbage = [.. frame, 1, 2, 3, 4, 5, 6, 7, 8];
            Assert.Throws<InvalidDataException>(() => Zstd.Decompress(trailingGarbage, -1));
            Assert.Throws<InvalidDataException>(() => Zstd.Decompress(trailingGarbage, data.Length));
        }

        // With a content checksum in the frame, any flipped byte in the body is detected.
        var checkedFrame = CompressStreaming(data, checksum: true);
        Assert.Equal(data, Zstd.Decompress(checkedFrame, -1));
        var r = new Random(5);
        for (var i = 0; i < 50; i++)
        {
            var bad = (byte[])checkedFrame.Clone();
            bad[r.Next(6, bad.Length)] ^= (byte)(1 << r.Next(8));
            var e = Assert.Throws<InvalidDataException>(() => Zstd.Decompress(bad, -1));
            Assert.StartsWith("zstd", e.Message);
        }
    }

    [Fact]
    public void Missing_library_message_tells_how_to_install_it()
    {
        Assert.True(Zstd.IsAvailable);
        var e = Zstd.LibraryMissing(new DllNotFoundException("libzstd.so.1: cannot open shared object file"));
        Assert.Contains("apt-get install libzstd1", e.Message);
        Assert.Contains("libzstd.so.1", e.Message);
    }

    [Fact]
    public void Rejects_absurd_expected_sizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Zstd.Decompress([1, 2, 3], -2));
        Assert.Throws<InvalidDataException>(() => Zstd.Decompress([1, 2, 3], long.MaxValue));
    }
}
