using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;

namespace PluginHost.Binlog.Files;

/// <summary>
/// Reads a binlog file (or any stream holding one, e.g. a gzip stream) event by event through the same
/// <see cref="BinlogEventDecoder"/> the replication client uses.
/// </summary>
public sealed class BinlogFileReader : IDisposable
{
    /// <summary>The four magic bytes every binlog file starts with.</summary>
    public static ReadOnlySpan<byte> Magic => [0xFE, (byte)'b', (byte)'i', (byte)'n'];

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>Opens a binlog file by path.</summary>
    public BinlogFileReader(string path, BinlogEventDecoder? decoder = null)
        : this(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan),
            Path.GetFileName(path), decoder, ownsStream: true)
    {
    }

    /// <summary>Reads a binlog from a stream positioned at its first byte.</summary>
    public BinlogFileReader(Stream stream, string fileName, BinlogEventDecoder? decoder = null, bool ownsStream = false)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        FileName = fileName;
        Decoder = decoder ?? new BinlogEventDecoder();
        Fill(4);
        if (_end < 4 || !_buffer.AsSpan(0, 4).SequenceEqual(Magic))
            throw new BinlogFormatException($"{fileName} is not a binlog file (it does not start with the bytes FE 62 69 6E)");
        _start = 4;
        Position = 4;
    }

    /// <summary>The file name reported in events' positions.</summary>
    public string FileName { get; }

    /// <summary>Offset of the next event in the file.</summary>
    public long Position { get; private set; }

    /// <summary>The decoder (holds the format description and table maps).</summary>
    public BinlogEventDecoder Decoder { get; }

    /// <summary>Reads and decodes the next event; null at the end of the file.</summary>
    public BinlogEvent? ReadEvent()
    {
        while (true)
        {
            var raw = NextRaw();
            if (raw.IsEmpty) return null;
            return Decoder.Decode(raw);
        }
    }

    /// <summary>Reads the next raw event (header included) without decoding it; empty at the end of the file.
    /// The span is valid until the next read.</summary>
    public ReadOnlySpan<byte> NextRaw() => NextSegment();

    /// <summary>The next raw event as a slice of the reader's buffer (valid until the next read: values decoded from
    /// it point into it); empty at the end of the file.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ArraySegment<byte> NextSegment()
    {
        if (!Fill(BinlogEventHeader.Size))
        {
            if (_end - _start == 0) return default;
            if (IsPadding(_buffer.AsSpan(_start, _end - _start))) { _start = _end; return default; }
            throw new BinlogFormatException($"{FileName}: truncated event header at position {Position} ({_end - _start} bytes left)");
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + 9));
        if (length < BinlogEventHeader.Size)
        {
            if (IsPadding(_buffer.AsSpan(_start, _end - _start)) && DrainPadding()) return default;
            throw new BinlogFormatException($"{FileName}: event at position {Position} has an impossible length {length}");
        }
        if (length > 1L << 30) throw new BinlogFormatException($"{FileName}: event at position {Position} claims {length} bytes");
        if (!Fill((int)length))
            throw new BinlogFormatException($"{FileName}: truncated event at position {Position}: needs {length} bytes, {_end - _start} left");
        var segment = new ArraySegment<byte>(_buffer, _start, (int)length);
        _start += (int)length;
        Position += length;
        return segment;
    }

    /// <summary>Every remaining event.</summary>
    public IEnumerable<BinlogEvent> ReadAll()
    {
        while (ReadEvent() is { } e) yield return e;
    }

    private static bool IsPadding(ReadOnlySpan<byte> s) => !s.ContainsAnyExcept((byte)0);

    private bool DrainPadding()
    {
        // Some servers (Aurora) pad the end of a file with zero bytes.
        while (true)
        {
            if (!IsPadding(_buffer.AsSpan(_start, _end - _start))) return false;
            _start = _end;
            if (!Fill(1)) return true;
        }
    }

    private bool Fill(int needed)
    {
        if (_end - _start >= needed) return true;
        if (_eof) return false;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        while (_end < needed)
        {
            if (_end == _buffer.Length)
            {
                // Grow as the data arrives, not to what a (possibly corrupt) length field claims.
                var bigger = new byte[(int)Math.Min(needed, _buffer.Length * 2L)];
                Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                _buffer = bigger;
            }
            var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0) { _eof = true; return false; }
            _end += n;
        }
        return true;
    }

    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }
}
