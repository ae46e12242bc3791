using PluginHost.Binlog;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Protocol.Framing;

namespace PluginHost.Tests.Binlog.Protocol;

public sealed class PacketChannelTests
{
    private const int Max = 0xFFFFFF;

    [Fact]
    public async Task Small_packet_has_header_and_round_trips()
    {
        var stream = new MemoryStream();
        using (var writer = new PacketChannel(new NonClosingStream(stream), "test"))
        {
            writer.SequenceId = 3;
            await writer.WritePacketAsync(new byte[] { 1, 2, 3 }, CancellationToken.None);
            Assert.Equal(4, writer.SequenceId);
        }

        Assert.Equal(new byte[] { 3, 0, 0, 3, 1, 2, 3 }, stream.ToArray());

        stream.Position = 0;
        using var reader = new PacketChannel(stream, "test") { SequenceId = 3 };
        ReadOnlyMemory<byte> payload = await reader.ReadPacketAsync(CancellationToken.None);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Max - 1)]
    [InlineData(Max)]
    [InlineData(Max + 1)]
    [InlineData(2 * Max)]
    [InlineData(2 * Max + 7)]
    public async Task Payloads_AroundThe16MiBBoundary_AreSplitAndJoined(int length)
    {
        byte[] payload = CreatePayload(length);
        var stream = new MemoryStream();
        using (var channel = new PacketChannel(new NonClosingStream(stream), "test"))
        {
            await channel.WritePacketAsync(payload, CancellationToken.None);
        }

        // Physical layout: full 0xFFFFFF chunks followed by one shorter (possibly empty) chunk.
        byte[] wire = stream.ToArray();
        int expectedPackets = length / Max + 1;
        Assert.Equal(length + 4 * expectedPackets, wire.Length);
        int offset = 0;
        for (int i = 0; i < expectedPackets; i++)
        {
            int chunk = wire[offset] | (wire[offset + 1] << 8) | (wire[offset + 2] << 16);
            Assert.Equal(i < expectedPackets - 1 ? Max : length % Max, chunk);
            Assert.Equal(i, wire[offset + 3]);
            Assert.True(wire.AsSpan(offset + 4, chunk).SequenceEqual(payload.AsSpan(i * Max, chunk)));
            offset += 4 + chunk;
        }

        // Read back through a stream that returns few bytes per read, followed by a small packet.
        byte[] trailer = [0x42];
        var all = new MemoryStream();
        all.Write(wire);
        all.Write([1, 0, 0, (byte)expectedPackets, 0x42]);
        all.Position = 0;
        using var reader = new PacketChannel(new ChunkedReadStream(all, 70_001), "test");
        ReadOnlyMemory<byte> joined = await reader.ReadPacketAsync(CancellationToken.None);
        Assert.Equal(length, joined.Length);
        Assert.True(joined.Span.SequenceEqual(payload));
        Assert.Equal(trailer, (await reader.ReadPacketAsync(CancellationToken.None)).ToArray());
    }

    [Fact]
    public async Task Many_small_packets_across_buffer_boundaries_and_one_byte_reads()
    {
        var stream = new MemoryStream();
        var expected = new List<byte[]>();
        using (var channel = new PacketChannel(new NonClosingStream(stream), "test"))
        {
            var random = new Random(42);
            for (int i = 0; i < 600; i++)
            {
                // Includes packets larger than the (small) read buffer used below.
                byte[] payload = CreatePayload(random.Next(0, i % 50 == 0 ? 5000 : 300), i);
                expected.Add(payload);
                await channel.WritePacketAsync(payload, CancellationToken.None);
            }
        }

        foreach (int chunk in new[] { 1, 7, 4096 })
        {
            stream.Position = 0;
            using var reader = new PacketChannel(new ChunkedReadStream(stream, chunk), "test", readBufferSize: 1024);
            foreach (byte[] payload in expected)
            {
                ReadOnlyMemory<byte> read = await reader.ReadPacketAsync(CancellationToken.None);
                Assert.True(read.Span.SequenceEqual(payload));
            }
        }
    }

    [Fact]
    public async Task Reading_buffered_packets_does_not_allocate_per_packet()
    {
        const int Count = 20_000;
        var stream = new MemoryStream();
        using (var channel = new PacketChannel(new NonClosingStream(stream), "test"))
        {
            byte[] payload = CreatePayload(300);
            for (int i = 0; i < Count; i++)
            {
                await channel.WritePacketAsync(payload, CancellationToken.None);
            }
        }

        stream.Position = 0;
        using var reader = new PacketChannel(stream, "test") { ReadTimeout = TimeSpan.FromSeconds(30) };
        await reader.ReadPacketAsync(CancellationToken.None); // warm up (timer, first fill)
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = 0;
        for (int i = 1; i < Count; i++)
        {
            total += (await reader.ReadPacketAsync(CancellationToken.None)).Length;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(300L * (Count - 1), total);
        // Any per-packet allocation would cost at least 24 bytes per packet. What remains is per buffer refill
        // (state machines of Debug builds, ~0 in Release), i.e. well under 4 bytes per packet on average.
        Assert.True(allocated < Count * 4L, $"Allocated {allocated} bytes for {Count} packets.");
    }

    [Fact]
    public async Task Sequence_mismatch_is_a_protocol_error()
    {
        var stream = new MemoryStream([2, 0, 0, 5, 0xAA, 0xBB]);
        using var reader = new PacketChannel(stream, "db:3306");
        var error = await Assert.ThrowsAsync<MySqlProtocolException>(async () => await reader.ReadPacketAsync(CancellationToken.None));
        Assert.Contains("expected sequence id 0", error.Message);
        Assert.Contains("received 5", error.Message);
    }

    [Fact]
    public async Task Sequence_mismatch_on_an_ERR_packet_is_passed_through()
    {
        // Servers send some ERR packets (e.g. connection killed) out of sequence.
        var stream = new MemoryStream([3, 0, 0, 0, 0xFF, 0x01, 0x02]);
        using var reader = new PacketChannel(stream, "db:3306") { SequenceId = 4 };
        ReadOnlyMemory<byte> payload = await reader.ReadPacketAsync(CancellationToken.None);
        Assert.Equal(0xFF, payload.Span[0]);
    }

    [Fact]
    public async Task Sequence_id_wraps_around()
    {
        var stream = new MemoryStream([1, 0, 0, 255, 9, 1, 0, 0, 0, 8]);
        using var reader = new PacketChannel(stream, "test") { SequenceId = 255 };
        Assert.Equal(9, (await reader.ReadPacketAsync(CancellationToken.None)).Span[0]);
        Assert.Equal(8, (await reader.ReadPacketAsync(CancellationToken.None)).Span[0]);
    }

    [Fact]
    public async Task End_of_stream_is_a_connection_error_naming_the_endpoint()
    {
        var stream = new MemoryStream([5, 0, 0, 0, 1, 2]);
        using var reader = new PacketChannel(stream, "db.example:3306");
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(async () => await reader.ReadPacketAsync(CancellationToken.None));
        Assert.Contains("db.example:3306", error.Message);
        Assert.Contains("closed", error.Message);
    }

    [Fact]
    public async Task Read_timeout_fires_when_no_data_arrives()
    {
        using var reader = new PacketChannel(new NeverEndingStream(), "db:3306") { ReadTimeout = TimeSpan.FromMilliseconds(200) };
        var error = await Assert.ThrowsAsync<MySqlConnectionException>(async () => await reader.ReadPacketAsync(CancellationToken.None));
        Assert.True(error.IsTimeout);
        Assert.Contains("db:3306", error.Message);
    }

    [Fact]
    public async Task Read_timeout_does_not_hide_caller_cancellation()
    {
        using var reader = new PacketChannel(new NeverEndingStream(), "db:3306") { ReadTimeout = TimeSpan.FromSeconds(30) };
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadPacketAsync(cts.Token));
    }

    [Fact]
    public async Task Read_timeout_is_rearmed_for_each_read()
    {
        var pipe = new SlowStream(new MemoryStream([1, 0, 0, 0, 7, 1, 0, 0, 1, 8]), delayPerRead: TimeSpan.FromMilliseconds(120));
        using var reader = new PacketChannel(pipe, "test", readBufferSize: 64) { ReadTimeout = TimeSpan.FromMilliseconds(400) };
        Assert.Equal(7, (await reader.ReadPacketAsync(CancellationToken.None)).Span[0]);
        Assert.Equal(8, (await reader.ReadPacketAsync(CancellationToken.None)).Span[0]);
    }

    [Fact]
    public void PacketReader_reads_length_encoded_values()
    {
        using var writer = new PacketWriter();
        writer.WriteLengthEncodedInteger(250);
        writer.WriteLengthEncodedInteger(251);
        writer.WriteLengthEncodedInteger(0xFFFF);
        writer.WriteLengthEncodedInteger(0x10000);
        writer.WriteLengthEncodedInteger(0x1000000);
        writer.WriteLengthEncodedBytes("héllo"u8);
        writer.WriteByte(0xFB);
        writer.WriteNullTerminatedString("abc");
        writer.WriteUInt64(ulong.MaxValue);
        Assert.Equal(
            new byte[] { 250, 0xFC, 251, 0, 0xFC, 0xFF, 0xFF, 0xFD, 0, 0, 1, 0xFE, 0, 0, 0, 1, 0, 0, 0, 0 },
            writer.Payload.Slice(0, 20).ToArray());

        var reader = new PacketReader(writer.Payload, PacketSource.Protocol);
        Assert.Equal(250UL, reader.ReadLengthEncoded());
        Assert.Equal(251UL, reader.ReadLengthEncoded());
        Assert.Equal(0xFFFFUL, reader.ReadLengthEncoded());
        Assert.Equal(0x10000UL, reader.ReadLengthEncoded());
        Assert.Equal(0x1000000UL, reader.ReadLengthEncoded());
        Assert.Equal("héllo", reader.ReadLengthEncodedStringOrNull());
        Assert.Null(reader.ReadLengthEncodedStringOrNull());
        Assert.Equal("abc", reader.ReadNullTerminatedString());
        Assert.Equal(ulong.MaxValue, reader.ReadUInt64());
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void PacketReader_out_of_range_is_a_protocol_error_for_a_payload_and_a_format_error_for_an_event()
    {
        Assert.Throws<MySqlProtocolException>(() => new PacketReader([0xFC, 1], PacketSource.Protocol).ReadLengthEncoded());
        Assert.Throws<MySqlProtocolException>(() => new PacketReader([5, 1, 2], PacketSource.Protocol).ReadLengthEncodedBytes());
        Assert.Throws<MySqlProtocolException>(() => new PacketReader([0xFB], PacketSource.Protocol).ReadLengthEncoded());
        // The same reads over a binlog event: corrupt data, not a broken connection (BinlogClient does not retry it).
        Assert.Throws<BinlogFormatException>(() => new PacketReader([0xFC, 1]).ReadLengthEncoded());
        Assert.Throws<BinlogFormatException>(() => new PacketReader([5, 1, 2]).ReadLengthEncodedBytes());
        Assert.Throws<BinlogFormatException>(() => new PacketReader([1, 2]).ReadBytes(-1));
    }

    private static byte[] CreatePayload(int length, int seed = 0)
    {
        byte[] payload = new byte[length];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)((i * 31) + (i >> 16) + seed);
        }

        return payload;
    }

    /// <summary>Returns at most a fixed number of bytes per read.</summary>
    private sealed class ChunkedReadStream(Stream inner, int chunk) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, chunk));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer.Slice(0, Math.Min(buffer.Length, chunk)), cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { }
    }

    /// <summary>Delays every read.</summary>
    private sealed class SlowStream(Stream inner, TimeSpan delayPerRead) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(delayPerRead, cancellationToken);
            return await inner.ReadAsync(buffer.Slice(0, Math.Min(buffer.Length, 5)), cancellationToken);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A read never completes until cancelled.</summary>
    private sealed class NeverEndingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Keeps the wrapped stream open when the channel disposes it.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        protected override void Dispose(bool disposing) { }
    }
}
