using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using PluginHost.Plugins.Kafka;

namespace PluginHost.Tests.Support;

/// <summary>
/// Reads a partition's log as it is stored, over the Kafka protocol itself (Fetch v4, read_uncommitted, record batches
/// v2): every record with its batch's producer id and transactional flag, and the control records (commit and abort
/// markers) that clients never show. <see cref="Committed"/> applies Kafka's read_committed rule from that log: a
/// transactional record counts once its producer's next marker in the partition is a commit; records of aborted
/// transactions, and of transactions never ended (a producer killed with -9), do not. librdkafka's mock cluster writes
/// the markers but does not hide aborted or open transactions from read_committed consumers (see
/// KafkaMockTransactionProbeTests), so the exactly-once proof reads the truth here.
/// </summary>
public static class KafkaLogReader
{
    /// <summary>One stored record: a data record (<see cref="Control"/> null) or a marker (<see cref="Control"/> true: commit, false: abort).</summary>
    public sealed record Entry(long Offset, long ProducerId, bool Transactional, bool? Control, byte[]? Key, byte[]? Value);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Servers, string Topic, int Partition), (string Host, int Port)> Leaders = new();

    /// <summary>Every entry of <paramref name="topic"/>/<paramref name="partition"/> from offset 0 to the end, markers included.</summary>
    public static List<Entry> Read(string bootstrapServers, string topic, int partition)
    {
        // The partition's leader, asked once per cluster, topic and partition (an admin client per read cost about a
        // second each, and the exactly-once test reads often).
        var (host, port) = Leaders.GetOrAdd((bootstrapServers, topic, partition), static k =>
        {
            KafkaNative.EnsureResolver();
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = k.Servers }).SetLogHandler((_, _) => { }).Build();
            var md = admin.GetMetadata(k.Topic, TimeSpan.FromSeconds(10));
            var leader = md.Topics.Single(t => t.Topic == k.Topic).Partitions.Single(p => p.PartitionId == k.Partition).Leader;
            var broker = md.Brokers.Single(b => b.BrokerId == leader);
            return (broker.Host, broker.Port);
        });
        using var tcp = new TcpClient(host, port);
        using var stream = tcp.GetStream();
        var entries = new List<Entry>();
        long offset = 0;
        for (var round = 0; round < 100_000; round++)
        {
            var (highWatermark, records) = Fetch(stream, topic, partition, offset, round);
            var before = entries.Count;
            ParseBatches(records, offset, entries);
            if (entries.Count > before) offset = entries[^1].Offset + 1;
            if (offset >= highWatermark) return entries;
            if (entries.Count == before) throw new InvalidDataException($"{topic}/{partition}: no progress at offset {offset} (high watermark {highWatermark})");
        }
        throw new InvalidDataException("too many fetches");
    }

    /// <summary>The data records a read_committed consumer of a real broker would get, in offset order.</summary>
    public static List<Entry> Committed(IReadOnlyList<Entry> log, ISet<long>? alsoCommitted = null)
    {
        var open = new Dictionary<long, List<Entry>>();
        var result = new List<Entry>();
        foreach (var e in log)
        {
            if (e.Control is { } commit)
            {
                if (open.Remove(e.ProducerId, out var pending) && commit) result.AddRange(pending);
                continue;
            }
            if (!e.Transactional) result.Add(e);
            else
            {
                if (!open.TryGetValue(e.ProducerId, out var list)) open[e.ProducerId] = list = [];
                list.Add(e);
            }
        }
        if (alsoCommitted != null)
            foreach (var (pid, pending) in open)
                if (alsoCommitted.Contains(pid)) result.AddRange(pending);
        return result.OrderBy(e => e.Offset).ToList();
    }

    private static (long HighWatermark, byte[] Records) Fetch(NetworkStream stream, string topic, int partition, long offset, int correlation)
    {
        var body = new List<byte>();
        void I16(short v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, v); body.AddRange(b); }
        void I32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); body.AddRange(b); }
        void I64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); body.AddRange(b); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); I16((short)b.Length); body.AddRange(b); }
        I16(1); I16(4); I32(correlation); Str("pluginhost-log-reader"); // header: Fetch v4
        I32(-1); I32(100); I32(1); I32(4 << 20); body.Add(0); // replica, max wait, min bytes, max bytes, read_uncommitted
        I32(1); Str(topic); I32(1); I32(partition); I64(offset); I32(4 << 20);
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, body.Count);
        stream.Write(size);
        stream.Write(body.ToArray());
        stream.ReadExactly(size);
        var response = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        stream.ReadExactly(response);
        var r = new Reader(response);
        r.I32(); r.I32(); // correlation id, throttle
        if (r.I32() != 1) throw new InvalidDataException("one topic expected");
        r.Str();
        if (r.I32() != 1) throw new InvalidDataException("one partition expected");
        r.I32();
        var error = r.I16();
        if (error != 0) throw new InvalidDataException($"{topic}/{partition}: fetch error {error}");
        var high = r.I64();
        r.I64(); // last stable offset
        var aborted = r.I32();
        for (var i = 0; i < aborted; i++) { r.I64(); r.I64(); }
        var length = r.I32();
        return (high, length <= 0 ? [] : r.Bytes(length));
    }

    private static void ParseBatches(byte[] data, long from, List<Entry> entries)
    {
        var r = new Reader(data);
        while (r.Left >= 61)
        {
            var baseOffset = r.I64();
            var length = r.I32();
            if (length > r.Left) break; // a partial batch at the end of the response
            var end = r.Position + length;
            r.I32(); // partition leader epoch
            if (r.I8() != 2) throw new InvalidDataException("record batch v2 expected");
            r.I32(); // crc
            var attributes = r.I16();
            if ((attributes & 0x7) != 0) throw new InvalidDataException("compressed batches are not read here");
            r.I32(); r.I64(); r.I64(); // last offset delta, first and max timestamp
            var producerId = r.I64();
            r.I16(); r.I32(); // epoch, base sequence
            var count = r.I32();
            var transactional = (attributes & 0x10) != 0;
            var control = (attributes & 0x20) != 0;
            for (var i = 0; i < count; i++)
            {
                r.VarInt(); // record length
                r.I8();
                r.VarLong();
                var offset = baseOffset + r.VarInt();
                var key = r.Nullable(r.VarInt());
                var value = r.Nullable(r.VarInt());
                var headers = r.VarInt();
                for (var h = 0; h < headers; h++) { r.Nullable(r.VarInt()); r.Nullable(r.VarInt()); }
                if (offset < from) continue;
                bool? marker = control ? key is { Length: >= 4 } k && BinaryPrimitives.ReadInt16BigEndian(k.AsSpan(2)) == 1 : null;
                entries.Add(new Entry(offset, producerId, transactional, marker, control ? null : key, control ? null : value));
            }
            r.Position = end;
        }
    }

    private sealed class Reader(byte[] data)
    {
        public int Position;
        public int Left => data.Length - Position;
        public sbyte I8() => (sbyte)data[Position++];
        public short I16() { var v = BinaryPrimitives.ReadInt16BigEndian(data.AsSpan(Position)); Position += 2; return v; }
        public int I32() { var v = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(Position)); Position += 4; return v; }
        public long I64() { var v = BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(Position)); Position += 8; return v; }
        public string Str() { var n = I16(); var s = Encoding.UTF8.GetString(data, Position, n); Position += n; return s; }
        public byte[] Bytes(int n) { var b = data.AsSpan(Position, n).ToArray(); Position += n; return b; }
        public byte[]? Nullable(int n) => n < 0 ? null : Bytes(n);

        public long VarLong()
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[Position++];
                v |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) break;
            }
            return (long)(v >> 1) ^ -(long)(v & 1);
        }

        public int VarInt() => (int)VarLong();
    }
}
