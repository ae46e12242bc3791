using System.Text;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using static PluginHost.Tests.Binlog.Decoding.MySql8EventBuilder;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>MySQL 8.3+ GTID_TAGGED_LOG_EVENT (a mysql::serialization message) and 8.0.26+ HEARTBEAT_LOG_EVENT_V2,
/// built from the server's documentation.</summary>
public sealed class TaggedGtidEventTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    private static BinlogEventDecoder Decoder()
    {
        var d = new BinlogEventDecoder();
        d.Decode(FormatDescription("8.4.0"));
        return d;
    }

    [Fact]
    public void Serialization_varints_read_as_the_readme_describes()
    {
        // readme examples: 65535 unsigned = FB FF 07; signed 65535 = F3 FF 0F, -65535 = EB FF 0F, -65536 = FB FF 0F.
        var pos = 0;
        Assert.Equal(65535UL, MySqlSerialization.ReadUnsigned([0xFB, 0xFF, 0x07], ref pos));
        Assert.Equal(3, pos);
        foreach (var (bytes, value) in new (byte[], long)[] { ([0xF3, 0xFF, 0x0F], 65535), ([0xEB, 0xFF, 0x0F], -65535), ([0xFB, 0xFF, 0x0F], -65536) })
        {
            pos = 0;
            Assert.Equal(value, MySqlSerialization.ReadSigned(bytes, ref pos));
        }
        foreach (var v in new ulong[] { 0, 1, 127, 128, 1UL << 56, (1UL << 56) - 1, ulong.MaxValue, 0x8000_0000_0000_0001 })
        {
            pos = 0;
            var encoded = Varint(v);
            Assert.Equal(v, MySqlSerialization.ReadUnsigned(encoded, ref pos));
            Assert.Equal(encoded.Length, pos);
            var written = new List<byte>();
            MySqlSerialization.WriteUnsigned(written, v);
            Assert.Equal(encoded, written);
        }
    }

    [Fact]
    public void A_tagged_gtid_event_names_uuid_tag_and_number()
    {
        var e = Assert.IsType<MySqlGtidEvent>(Decoder().Decode(
            TaggedGtid(Uuid, "Etl_2", 300, lastCommitted: 41, sequence: 42, commitMicros: 1_700_000_000_123_456, originalCommitMicros: 5, commitTicket: 9)));
        Assert.Equal(Guid.Parse(Uuid), e.ServerUuid);
        Assert.Equal("etl_2", e.Tag);
        Assert.Equal(300, e.TransactionNumber);
        Assert.Equal(41, e.LastCommitted);
        Assert.Equal(42, e.SequenceNumber);
        Assert.Equal(1_700_000_000_123_456UL, e.ImmediateCommitMicros);
        Assert.Equal($"{Uuid}:etl_2:300", e.Gtid);
        Assert.False(e.IsAnonymous);
    }

    [Fact]
    public void Fields_a_newer_server_adds_are_skipped()
    {
        var e = Assert.IsType<MySqlGtidEvent>(Decoder().Decode(TaggedGtid(Uuid, "a", 7, extraFields: [.. Varint(12), .. Varint(99)])));
        Assert.Equal($"{Uuid}:a:7", e.Gtid);
    }

    [Fact]
    public void A_truncated_tagged_gtid_names_the_event_and_its_position()
    {
        var full = TaggedGtid(Uuid, "a", 7);
        var body = full[19..^6];
        var e = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(Event(BinlogEventType.GtidTagged, body, nextPosition: 500)));
        Assert.Contains("GtidTagged event at position", e.Message);
    }

    [Fact]
    public void The_transaction_tracker_records_tagged_gtids_in_its_gtid_set()
    {
        var tracker = new TransactionTracker(new BinlogPosition("binlog.000001", 4, $"{Uuid}:1-5"), ServerFlavor.MySql);
        var decoder = Decoder();
        Assert.False(tracker.Observe(decoder.Decode(TaggedGtid(Uuid, "etl", 1))));
        Assert.True(tracker.Observe(decoder.Decode(PluginHost.Tests.Support.ControlEventBuilder.Xid(1))));
        Assert.Equal($"{Uuid}:1-5:etl:1", tracker.Committed.Gtid);
    }

    [Fact]
    public void Heartbeat_v2_carries_file_and_position()
    {
        // go-mysql's captured bodies: file "binlog.000001", position as a packed integer (1 byte; then 0xfd + 3 bytes).
        var name = Encoding.ASCII.GetBytes("binlog.000001");
        var e = Assert.IsType<HeartbeatEvent>(Decoder().Decode(Event(BinlogEventType.HeartbeatV2, [1, 13, .. name, 2, 1, 0x9e, 0])));
        Assert.Equal("binlog.000001", e.LogFile);
        Assert.Equal(158UL, e.LogPosition);
        e = Assert.IsType<HeartbeatEvent>(Decoder().Decode(Event(BinlogEventType.HeartbeatV2, [1, 13, .. name, 2, 4, 0xfd, 0xbb, 0xaf, 0x27, 0])));
        Assert.Equal(2600891UL, e.LogPosition);
        var bad = Assert.Throws<BinlogFormatException>(() => Decoder().Decode(Event(BinlogEventType.HeartbeatV2, [3, 13, .. name, 0])));
        Assert.Contains("HeartbeatV2 event at position", bad.Message);
        Assert.Contains("field type 3", bad.Message);
    }
}
