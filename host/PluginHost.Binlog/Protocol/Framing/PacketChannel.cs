using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace PluginHost.Binlog.Protocol.Framing;

/// <summary>
/// MySQL packet framing over a <see cref="Stream"/>: 3-byte little-endian payload length + 1-byte
/// sequence id, payloads of 16 MiB - 1 bytes or more split into several packets (the last one shorter
/// than 0xFFFFFF, possibly empty) and joined again on read, sequence ids checked.
/// </summary>
/// <remarks>
/// Reads go through one large pooled buffer; a payload that fits in it is returned as a slice of that
/// buffer without copying. Larger payloads are assembled in a pooled buffer that is recycled on the next
/// read. Either way the memory returned by <see cref="ReadPacketAsync"/> is only valid until the next call
/// to <see cref="ReadPacketAsync"/> (or disposal): consume or copy it first. Not thread-safe.
/// </remarks>
internal sealed class PacketChannel : IDisposable
{
    /// <summary>Largest payload of a single packet; a packet of exactly this size means "more follows".</summary>
    public const int MaxPacketPayload = 0xFFFFFF;

    /// <summary>Default size of the pooled read buffer.</summary>
    public const int DefaultReadBufferSize = 128 * 1024;

    private const int HeaderSize = PacketWriter.HeaderSize;

    private Stream _stream;
    private byte[] _readBuffer;
    private int _readPos;
    private int _readEnd;
    private byte[]? _largePayload;
    private byte _sequence;
    private bool _sequenceMismatch;
    private byte _receivedSequence;
    private byte _expectedSequence;
    private TimeSpan _readTimeout = Timeout.InfiniteTimeSpan;
    private CancellationTokenSource? _timeoutSource;
    private PacketWriter? _writer;
    private bool _readInProgress;
    private bool _disposed;

    /// <summary>Creates a channel over <paramref name="stream"/>, which it owns.</summary>
    /// <param name="stream">The transport (network stream, TLS stream, or a test stream).</param>
    /// <param name="endpoint">"host:port" used in error messages.</param>
    /// <param name="readBufferSize">Size of the pooled read buffer.</param>
    public PacketChannel(Stream stream, string endpoint, int readBufferSize = DefaultReadBufferSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(readBufferSize, 64);
        _stream = stream;
        Endpoint = endpoint;
        _readBuffer = ArrayPool<byte>.Shared.Rent(readBufferSize);
    }

    /// <summary>"host:port" of the peer, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>The current transport stream.</summary>
    public Stream Stream => _stream;

    /// <summary>The sequence id the next packet (read or written) must carry.</summary>
    public byte SequenceId
    {
        get => _sequence;
        set => _sequence = value;
    }

    /// <summary>Number of received bytes that are buffered but not yet consumed.</summary>
    public int BufferedByteCount => _readEnd - _readPos;

    /// <summary>
    /// Maximum time a single socket read may wait for data before the connection is declared dead
    /// (<see cref="MySqlConnectionException"/> with <see cref="MySqlConnectionException.IsTimeout"/>).
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan ReadTimeout
    {
        get => _readTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The read timeout must be positive or Timeout.InfiniteTimeSpan.");
            }

            _readTimeout = value;
        }
    }

    /// <summary>Starts a new command: the next packet written carries sequence id 0.</summary>
    public void ResetSequence() => _sequence = 0;

    /// <summary>Replaces the transport (after the TLS upgrade). Nothing may be buffered at that point.</summary>
    public void ReplaceStream(Stream stream)
    {
        if (BufferedByteCount != 0)
        {
            throw new MySqlProtocolException($"The server {Endpoint} sent {BufferedByteCount} unexpected byte(s) before the TLS handshake.");
        }

        _stream = stream;
    }

    /// <summary>Resets and returns the channel's reusable writer for building the next outgoing payload.</summary>
    public PacketWriter BeginPacket()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer ??= new PacketWriter();
        _writer.Reset();
        return _writer;
    }

    /// <summary>
    /// Reads the next logical packet (joining split packets) and returns its payload. The memory is valid
    /// only until the next read on this channel.
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadPacketAsync(CancellationToken cancellationToken) =>
        TryReadBufferedPacket(out ReadOnlyMemory<byte> payload) ? new ValueTask<ReadOnlyMemory<byte>>(payload) : ReadPacketSlowAsync(cancellationToken);

    /// <summary>
    /// Takes the next packet when it is already received whole (one packet, no wait), like <see cref="ReadPacketAsync"/>;
    /// false when it is not (then read it with <see cref="ReadPacketAsync"/>).
    /// </summary>
    public bool TryReadBufferedPacket(out ReadOnlyMemory<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_largePayload is not null)
        {
            ReleaseLargePayload();
        }

        int available = _readEnd - _readPos;
        if (available >= HeaderSize)
        {
            byte[] buffer = _readBuffer;
            int pos = _readPos;
            int length = buffer[pos] | (buffer[pos + 1] << 8) | (buffer[pos + 2] << 16);
            if (length < MaxPacketPayload && available - HeaderSize >= length)
            {
                AcceptSequence(buffer[pos + 3]);
                _readPos = pos + HeaderSize + length;
                payload = new ReadOnlyMemory<byte>(buffer, pos + HeaderSize, length);
                if (_sequenceMismatch)
                {
                    ThrowIfMismatchNotError(payload.Span);
                }

                return true;
            }
        }

        payload = default;
        return false;
    }

    /// <summary>Sends the payload built in <paramref name="writer"/>, splitting it at 0xFFFFFF bytes, then flushes.</summary>
    public async ValueTask WritePacketAsync(PacketWriter writer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte[] buffer = writer.Buffer;
        int payloadLength = writer.PayloadLength;
        try
        {
            if (payloadLength < MaxPacketPayload)
            {
                WriteHeader(buffer, 0, payloadLength, _sequence++);
                await _stream.WriteAsync(buffer.AsMemory(0, HeaderSize + payloadLength), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // The header of each chunk goes into the 4 bytes just before it: the reserved header space for
                // the first chunk, the tail of the already-sent previous chunk for the following ones. No copy.
                int offset = 0;
                while (true)
                {
                    int chunk = Math.Min(MaxPacketPayload, payloadLength - offset);
                    WriteHeader(buffer, offset, chunk, _sequence++);
                    await _stream.WriteAsync(buffer.AsMemory(offset, HeaderSize + chunk), cancellationToken).ConfigureAwait(false);
                    offset += chunk;
                    if (chunk < MaxPacketPayload)
                    {
                        break;
                    }
                }
            }

            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException && !_disposed)
        {
            throw new MySqlConnectionException($"Connection to {Endpoint} failed while sending: {ex.Message}", ex);
        }
    }

    /// <summary>Sends <paramref name="payload"/> as one logical packet (copied into the channel's writer).</summary>
    public ValueTask WritePacketAsync(ReadOnlySpan<byte> payload, CancellationToken cancellationToken)
    {
        PacketWriter writer = BeginPacket();
        writer.WriteBytes(payload);
        return WritePacketAsync(writer, cancellationToken);
    }

    /// <summary>Disposes the stream and returns the pooled buffers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _stream.Dispose();
        }
        catch (Exception)
        {
            // Closing a broken transport may throw; nothing left to do.
        }

        _timeoutSource?.Dispose();
        _writer?.Dispose();
        if (!_readInProgress)
        {
            // Never hand a buffer back to the pool while a read may still write into it.
            ArrayPool<byte>.Shared.Return(_readBuffer);
            ReleaseLargePayload();
        }

        _readBuffer = [];
    }

    private static void WriteHeader(byte[] buffer, int offset, int length, byte sequence)
    {
        buffer[offset] = (byte)length;
        buffer[offset + 1] = (byte)(length >> 8);
        buffer[offset + 2] = (byte)(length >> 16);
        buffer[offset + 3] = sequence;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReadPacketSlowAsync(CancellationToken cancellationToken)
    {
        _readInProgress = true;
        try
        {
            await EnsureBufferedAsync(HeaderSize, cancellationToken).ConfigureAwait(false);
            int length = ConsumeHeader();
            ReadOnlyMemory<byte> payload;
            if (length < MaxPacketPayload)
            {
                if (length <= _readBuffer.Length)
                {
                    await EnsureBufferedAsync(length, cancellationToken).ConfigureAwait(false);
                    payload = new ReadOnlyMemory<byte>(_readBuffer, _readPos, length);
                    _readPos += length;
                }
                else
                {
                    byte[] large = ArrayPool<byte>.Shared.Rent(length);
                    _largePayload = large;
                    await ReadExactAsync(large.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    payload = new ReadOnlyMemory<byte>(large, 0, length);
                }
            }
            else
            {
                payload = await ReadSplitPayloadAsync(length, cancellationToken).ConfigureAwait(false);
            }

            if (_sequenceMismatch)
            {
                ThrowIfMismatchNotError(payload.Span);
            }

            return payload;
        }
        finally
        {
            _readInProgress = false;
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReadSplitPayloadAsync(int firstLength, CancellationToken cancellationToken)
    {
        byte[] joined = ArrayPool<byte>.Shared.Rent(MaxPacketPayload + (MaxPacketPayload / 2));
        _largePayload = joined;
        bool firstHeaderMismatch = _sequenceMismatch;
        int total = 0;
        int length = firstLength;
        while (true)
        {
            if ((long)total + length > joined.Length)
            {
                long wanted = Math.Max((long)total + length, (long)joined.Length * 2);
                if ((long)total + length > Array.MaxLength)
                {
                    throw new MySqlProtocolException($"The server {Endpoint} sent a packet larger than {Array.MaxLength} bytes.");
                }

                byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Array.MaxLength));
                joined.AsSpan(0, total).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(joined);
                joined = bigger;
                _largePayload = bigger;
            }

            await ReadExactAsync(joined.AsMemory(total, length), cancellationToken).ConfigureAwait(false);
            total += length;
            if (length < MaxPacketPayload)
            {
                _sequenceMismatch = firstHeaderMismatch;
                return new ReadOnlyMemory<byte>(joined, 0, total);
            }

            await EnsureBufferedAsync(HeaderSize, cancellationToken).ConfigureAwait(false);
            length = ConsumeHeader();
            if (_sequenceMismatch)
            {
                ThrowSequenceMismatch(); // continuation packets must follow in sequence
            }
        }
    }

    private int ConsumeHeader()
    {
        byte[] buffer = _readBuffer;
        int pos = _readPos;
        int length = buffer[pos] | (buffer[pos + 1] << 8) | (buffer[pos + 2] << 16);
        AcceptSequence(buffer[pos + 3]);
        _readPos = pos + HeaderSize;
        return length;
    }

    private void AcceptSequence(byte received)
    {
        _expectedSequence = _sequence;
        _sequenceMismatch = received != _sequence;
        _receivedSequence = received;
        _sequence = (byte)(received + 1);
    }

    private void ThrowIfMismatchNotError(ReadOnlySpan<byte> payload)
    {
        // A server may send an out-of-band ERR packet (e.g. connection killed, idle timeout) with an
        // unexpected sequence id; let it through so the caller reports the server's message.
        if (payload.IsEmpty || payload[0] != 0xFF)
        {
            ThrowSequenceMismatch();
        }
    }

    private void ThrowSequenceMismatch() =>
        throw new MySqlProtocolException(
            $"Packet out of order from {Endpoint}: expected sequence id {_expectedSequence}, received {_receivedSequence}.");

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EnsureBufferedAsync(int count, CancellationToken cancellationToken)
    {
        int available = _readEnd - _readPos;
        if (available >= count)
        {
            return;
        }

        if (available == 0)
        {
            _readPos = _readEnd = 0;
        }
        else if (_readPos + count > _readBuffer.Length)
        {
            Buffer.BlockCopy(_readBuffer, _readPos, _readBuffer, 0, available);
            _readPos = 0;
            _readEnd = available;
        }

        while (_readEnd - _readPos < count)
        {
            int read = await ReadFromStreamAsync(_readBuffer.AsMemory(_readEnd), cancellationToken).ConfigureAwait(false);
            _readEnd += read;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadExactAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int fromBuffer = Math.Min(_readEnd - _readPos, destination.Length);
        if (fromBuffer > 0)
        {
            _readBuffer.AsSpan(_readPos, fromBuffer).CopyTo(destination.Span);
            _readPos += fromBuffer;
            destination = destination.Slice(fromBuffer);
        }

        while (!destination.IsEmpty)
        {
            int read = await ReadFromStreamAsync(destination, cancellationToken).ConfigureAwait(false);
            destination = destination.Slice(read);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadFromStreamAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            if (_readTimeout == Timeout.InfiniteTimeSpan)
            {
                read = await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                read = await ReadWithTimeoutAsync(destination, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException || (ex is ObjectDisposedException && !_disposed))
        {
            throw new MySqlConnectionException($"Connection to {Endpoint} failed while reading: {ex.Message}", ex);
        }

        if (read == 0)
        {
            throw new MySqlConnectionException($"The server {Endpoint} closed the connection.");
        }

        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadWithTimeoutAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        CancellationTokenSource timeout = _timeoutSource ??= new CancellationTokenSource();
        timeout.CancelAfter(_readTimeout);
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout)
            : default;
        try
        {
            return await _stream.ReadAsync(destination, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MySqlConnectionException(
                $"No data received from {Endpoint} for {_readTimeout.TotalSeconds:0.###} s (read timeout); the connection is considered dead.",
                ex,
                isTimeout: true);
        }
        finally
        {
            registration.Dispose();
            if (!timeout.TryReset())
            {
                timeout.Dispose();
                _timeoutSource = null;
            }
        }
    }

    private void ReleaseLargePayload()
    {
        byte[]? large = _largePayload;
        _largePayload = null;
        if (large is not null)
        {
            ArrayPool<byte>.Shared.Return(large);
        }
    }
}
