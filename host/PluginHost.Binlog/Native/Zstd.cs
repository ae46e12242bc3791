using System.Runtime.InteropServices;

namespace PluginHost.Binlog.Native;

/// <summary>
/// zstd decompression through the system's <c>libzstd.so.1</c> (Debian package <c>libzstd1</c>), for MySQL 8's
/// TRANSACTION_PAYLOAD events. Handles frames that state their content size and frames that do not (MySQL
/// compresses with the streaming API, so its frames usually do not), and several concatenated frames.
/// </summary>
internal static partial class Zstd
{
    internal const string LibraryName = "libzstd.so.1";

    private const ulong ContentSizeUnknown = ulong.MaxValue;     // ZSTD_CONTENTSIZE_UNKNOWN
    private const ulong ContentSizeError = ulong.MaxValue - 1;   // ZSTD_CONTENTSIZE_ERROR
    private const int ErrorDstSizeTooSmall = 70;                 // ZSTD_error_dstSize_tooSmall

    /// <summary>True when libzstd can be loaded.</summary>
    internal static bool IsAvailable => NativeLibrary.TryLoad(LibraryName, typeof(Zstd).Assembly, null, out _);

    /// <summary>Decompresses one or more zstd frames.</summary>
    /// <param name="src">The compressed bytes, exactly (every byte must belong to a frame).</param>
    /// <param name="expectedSizeOrMinus1">The decompressed size when known (TRANSACTION_PAYLOAD's uncompressed size field),
    /// or -1 to take it from the frame header or, when the header does not say, to decompress in streaming mode.</param>
    /// <returns>The decompressed bytes.</returns>
    /// <exception cref="InvalidDataException">The data is not zstd, is corrupt or truncated, or does not decompress to the expected size.</exception>
    /// <exception cref="DllNotFoundException">libzstd.so.1 is not installed.</exception>
    internal static unsafe byte[] Decompress(ReadOnlySpan<byte> src, long expectedSizeOrMinus1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedSizeOrMinus1, -1);
        if (expectedSizeOrMinus1 > Array.MaxLength)
            throw new InvalidDataException($"zstd payload claims {expectedSizeOrMinus1} uncompressed bytes, more than one buffer can hold");
        if (src.IsEmpty)
            throw new InvalidDataException("zstd payload is empty");
        try
        {
            fixed (byte* s = src)
            {
                var srcSize = (nuint)src.Length;
                if (expectedSizeOrMinus1 >= 0)
                {
                    var expected = (int)expectedSizeOrMinus1;
                    var dst = GC.AllocateUninitializedArray<byte>(expected);
                    var result = DecompressInto(dst, s, srcSize);
                    if (IsError(result))
                    {
                        if (ZSTD_getErrorCode(result) == ErrorDstSizeTooSmall)
                            throw new InvalidDataException($"zstd payload decompresses to more than the expected {expected} bytes");
                        throw Corrupt(result);
                    }
                    if (result != (nuint)expected)
                        throw new InvalidDataException($"zstd payload decompressed to {result} bytes, expected {expected}");
                    return dst;
                }

                var contentSize = ZSTD_getFrameContentSize(s, srcSize);
                if (contentSize == ContentSizeError)
                    throw new InvalidDataException("data is not a zstd frame (bad magic number or truncated frame header)");
                if (contentSize != ContentSizeUnknown)
                {
                    if (contentSize > (ulong)Array.MaxLength)
                        throw new InvalidDataException($"zstd frame claims {contentSize} uncompressed bytes, more than one buffer can hold");
                    var dst = GC.AllocateUninitializedArray<byte>((int)contentSize);
                    var result = DecompressInto(dst, s, srcSize);
                    if (!IsError(result))
                        return result == contentSize ? dst : dst.AsSpan(0, (int)result).ToArray();
                    if (ZSTD_getErrorCode(result) != ErrorDstSizeTooSmall)
                        throw Corrupt(result);
                    // More frames follow the first one: fall through to streaming.
                }
                return DecompressStream(s, srcSize, contentSize == ContentSizeUnknown ? 0 : (long)contentSize);
            }
        }
        catch (DllNotFoundException e)
        {
            throw LibraryMissing(e);
        }
        catch (EntryPointNotFoundException e)
        {
            throw LibraryMissing(e);
        }
    }

    /// <summary>The exception thrown when libzstd cannot be used.</summary>
    internal static DllNotFoundException LibraryMissing(Exception inner) =>
        new($"zstd decompression needs {LibraryName}, which could not be loaded ({inner.Message}). " +
            "MySQL's binlog_transaction_compression writes zstd-compressed TRANSACTION_PAYLOAD events; " +
            "install the library with 'apt-get install libzstd1' (Debian/Ubuntu) or turn binlog_transaction_compression off on the server.", inner);

    private static unsafe nuint DecompressInto(byte[] dst, byte* src, nuint srcSize)
    {
        // A zero-length array pins to null; give zstd a valid pointer with zero capacity instead.
        byte dummy = 0;
        fixed (byte* d = dst)
            return ZSTD_decompress(d is null ? &dummy : d, (nuint)dst.Length, src, srcSize);
    }

    private static unsafe byte[] DecompressStream(byte* src, nuint srcSize, long sizeHint)
    {
        var stream = ZSTD_createDStream();
        if (stream == 0) throw new OutOfMemoryException("ZSTD_createDStream failed");
        try
        {
            var init = ZSTD_initDStream(stream);
            if (IsError(init)) throw Corrupt(init);

            var capacity = (int)Math.Clamp(Math.Max(sizeHint, (long)srcSize * 4), 4096, Array.MaxLength);
            var buffer = GC.AllocateUninitializedArray<byte>(capacity);
            var produced = 0;
            var input = new InBuffer { Src = src, Size = srcSize, Pos = 0 };
            while (true)
            {
                if (produced == buffer.Length)
                {
                    if (buffer.Length == Array.MaxLength)
                        throw new InvalidDataException("zstd payload decompresses to more than one buffer can hold");
                    var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(2L * buffer.Length, Array.MaxLength));
                    buffer.AsSpan(0, produced).CopyTo(bigger);
                    buffer = bigger;
                }
                nuint ret;
                OutBuffer output;
                var inputBefore = input.Pos;
                var outputBefore = produced;
                fixed (byte* d = buffer)
                {
                    output = new OutBuffer { Dst = d, Size = (nuint)buffer.Length, Pos = (nuint)produced };
                    ret = ZSTD_decompressStream(stream, &output, &input);
                }
                produced = (int)output.Pos;
                if (IsError(ret)) throw Corrupt(ret);
                var inputDone = input.Pos == input.Size;
                if (ret == 0 && inputDone) break; // last frame complete, all input used
                if (inputDone && output.Pos < output.Size && ret != 0)
                    throw new InvalidDataException("zstd payload is truncated (the frame ends early)");
                if (ret != 0 && input.Pos == inputBefore && produced == outputBefore)
                    throw new InvalidDataException("zstd decompression made no progress");
            }
            return produced == buffer.Length ? buffer : buffer.AsSpan(0, produced).ToArray();
        }
        finally
        {
            ZSTD_freeDStream(stream);
        }
    }

    private static bool IsError(nuint code) => ZSTD_isError(code) != 0;

    private static InvalidDataException Corrupt(nuint code) =>
        new($"zstd payload is corrupt: {Marshal.PtrToStringUTF8(ZSTD_getErrorName(code)) ?? "unknown error"}");

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct InBuffer
    {
        public byte* Src;
        public nuint Size;
        public nuint Pos;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct OutBuffer
    {
        public byte* Dst;
        public nuint Size;
        public nuint Pos;
    }

    [LibraryImport(LibraryName)]
    private static unsafe partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint compressedSize);

    [LibraryImport(LibraryName)]
    private static unsafe partial ulong ZSTD_getFrameContentSize(byte* src, nuint srcSize);

    [LibraryImport(LibraryName)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(LibraryName)]
    private static partial int ZSTD_getErrorCode(nuint code);

    [LibraryImport(LibraryName)]
    private static partial nint ZSTD_getErrorName(nuint code);

    [LibraryImport(LibraryName)]
    private static partial nint ZSTD_createDStream();

    [LibraryImport(LibraryName)]
    private static partial nuint ZSTD_freeDStream(nint stream);

    [LibraryImport(LibraryName)]
    private static partial nuint ZSTD_initDStream(nint stream);

    [LibraryImport(LibraryName)]
    private static unsafe partial nuint ZSTD_decompressStream(nint stream, OutBuffer* output, InBuffer* input);
}
