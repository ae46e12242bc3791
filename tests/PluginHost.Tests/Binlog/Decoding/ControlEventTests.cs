using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Cli;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Support.BinlogEventBuilder;
using static PluginHost.Tests.Support.ControlEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// Control events (MySQL GTID / PREVIOUS_GTIDS / ROWS_QUERY, MariaDB ANNOTATE_ROWS, HEARTBEAT, STOP, unknown types) built
/// byte by byte from the documented layouts, decoded alone and inside whole binlog files.
/// </summary>
public sealed class ControlEventTests
{
    private const string UuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string UuidB = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
    private const ulong TableId = 91;

    private static readonly IReadOnlyList<Col> TwoInts = [new(ColumnType.Long, []), new(ColumnType.Long, [])];

    /// <summary>Optional-metadata COLUMN_NAME (field 4): every name as a length-encoded string.</summary>
    private static readonly (byte, byte[])[] Names = [(4, [.. LenEncString("id"), .. LenEncString("qty")])];

    private static BinlogEventDecoder MySqlDecoder()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription());
        return decoder;
    }

    [Fact]
    public void Gtid_event_decodes_to_uuid_colon_number_with_its_logical_clock()
    {
        var e = Assert.IsType<MySqlGtidEvent>(MySqlDecoder().Decode(GtidEvent(UuidA, 23, lastCommitted: 7, sequenceNumber: 8, commitMicros: 1_700_000_000_654_321)));
        Assert.Equal(BinlogEventType.Gtid, e.Header.EventType);
        Assert.False(e.IsAnonymous);
        Assert.Equal($"{UuidA}:23", e.Gtid);
        Assert.Equal(UuidA, e.ServerUuid.ToString("D"));
        Assert.Equal(23, e.TransactionNumber);
        Assert.Equal(7, e.LastCommitted);
        Assert.Equal(8, e.SequenceNumber);
        Assert.Equal(1_700_000_000_654_321UL, e.ImmediateCommitMicros);
    }

    [Fact]
    public void Gtid_event_with_a_large_transaction_number_and_the_anonymous_form()
    {
        var decoder = MySqlDecoder();
        var big = Assert.IsType<MySqlGtidEvent>(decoder.Decode(GtidEvent(UuidB, (1L << 62) + 5)));
        Assert.Equal($"{UuidB}:{(1L << 62) + 5}", big.Gtid);

        var anonymous = Assert.IsType<MySqlGtidEvent>(decoder.Decode(GtidEvent(UuidA, 0, anonymous: true)));
        Assert.True(anonymous.IsAnonymous);
        Assert.Null(anonymous.Gtid);
    }

    [Fact]
    public void Previous_gtids_decodes_to_the_gtid_set_it_encodes()
    {
        // UuidA: [1,6) and [7,8) => 1-5 and 7; UuidB: [1,101) => 1-100. The text lists UUIDs in ascending order.
        var e = Assert.IsType<PreviousGtidsEvent>(MySqlDecoder().Decode(
            PreviousGtids((UuidA, [(1, 6), (7, 8)]), (UuidB, [(1, 101)]))));
        Assert.Equal($"{UuidB}:1-100,{UuidA}:1-5:7", e.GtidSet.ToString());
        Assert.Equal([(1L, 5L), (7L, 7L)], e.GtidSet.GetIntervals(Guid.Parse(UuidA)));
        Assert.Equal([(1L, 100L)], e.GtidSet.GetIntervals(Guid.Parse(UuidB)));
    }

    [Fact]
    public void Previous_gtids_of_a_first_binlog_is_the_empty_set()
    {
        var e = Assert.IsType<PreviousGtidsEvent>(MySqlDecoder().Decode(PreviousGtids()));
        Assert.True(e.GtidSet.IsEmpty);
        Assert.Equal("", e.GtidSet.ToString());
    }

    [Fact]
    public void Previous_gtids_claiming_more_sids_than_its_bytes_is_a_format_error()
    {
        byte[] body = [.. BitConverter.GetBytes(1_000_000L), .. UuidBytes(UuidA)];
        var error = Assert.Throws<BinlogFormatException>(() => MySqlDecoder().Decode(Event(BinlogEventType.PreviousGtids, body)));
        Assert.Contains("PreviousGtids", error.Message);
    }

    [Fact]
    public void Rows_query_text_ignores_its_one_byte_length_even_past_255_bytes()
    {
        var decoder = MySqlDecoder();
        Assert.Equal("INSERT INTO t VALUES (1, 'é')", Assert.IsType<RowsQueryEvent>(decoder.Decode(RowsQuery("INSERT INTO t VALUES (1, 'é')"))).Query);

        var longSql = "UPDATE t SET note = '" + new string('x', 400) + "' WHERE id = 1";
        var e = Assert.IsType<RowsQueryEvent>(decoder.Decode(RowsQuery(longSql)));
        Assert.Equal(BinlogEventType.RowsQuery, e.Header.EventType);
        Assert.Equal(longSql, e.Query);
    }

    [Fact]
    public void Annotate_rows_text_of_mariadb()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription("10.11.6-MariaDB-log", crc: true));
        const string sql = "DELETE FROM shop.users WHERE name = 'Zoë'";
        byte[] annotate = AnnotateRows(sql);
        var withCrc = Link(0, crc: true, annotate)[0];
        var e = Assert.IsType<RowsQueryEvent>(decoder.Decode(withCrc));
        Assert.Equal(BinlogEventType.MariaDbAnnotateRows, e.Header.EventType);
        Assert.Equal(sql, e.Query);
    }

    [Fact]
    public void Stop_event()
    {
        var e = Assert.IsType<StopEvent>(MySqlDecoder().Decode(Stop()));
        Assert.Equal(BinlogEventType.Stop, e.Header.EventType);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Heartbeat_names_the_current_file_and_position(bool crc)
    {
        var decoder = new BinlogEventDecoder(crc ? ChecksumAlgorithm.Crc32 : ChecksumAlgorithm.Off);
        var heartbeat = Heartbeat("log-bin.1000139", 493); // the example of MariaDB's HEARTBEAT_LOG_EVENT page
        if (crc)
        {
            heartbeat = [.. heartbeat, 0, 0, 0, 0];
            BitConverter.GetBytes((uint)heartbeat.Length).CopyTo(heartbeat, 9);
            BitConverter.GetBytes(Crc32.HashToUInt32(heartbeat.AsSpan(0, heartbeat.Length - 4))).CopyTo(heartbeat, heartbeat.Length - 4);
        }
        var e = Assert.IsType<HeartbeatEvent>(decoder.Decode(heartbeat));
        Assert.Equal("log-bin.1000139", e.LogFile);
        Assert.Equal(493u, e.Header.NextPosition);
        Assert.Equal(0u, e.Header.Timestamp);
    }

    [Fact]
    public void Heartbeat_bytes_of_the_mariadb_documentation()
    {
        // The event bytes of MariaDB's HEARTBEAT_LOG_EVENT transmission example (packet header and OK byte removed).
        byte[] bytes = Convert.FromHexString("00000000" + "1B" + "672B0000" + "22000000" + "ED010000" + "2000" +
                                             Convert.ToHexString(Encoding.ASCII.GetBytes("log-bin.1000139")));
        var e = Assert.IsType<HeartbeatEvent>(new BinlogEventDecoder().Decode(bytes));
        Assert.Equal("log-bin.1000139", e.LogFile);
        Assert.Equal(0x2B67u, e.Header.ServerId); // 11111 (the page misreads it as 111111)
        Assert.Equal(493u, e.Header.NextPosition);
    }

    [Fact]
    public void Heartbeat_v2_is_a_heartbeat_and_the_stream_goes_on()
    {
        // MySQL 8.0.26+ HEARTBEAT_LOG_EVENT_V2 (41): a list of (type, length, value) fields; 1 = log file name, 2 = position.
        var name = Encoding.ASCII.GetBytes("binlog.000007");
        byte[] body = [1, (byte)name.Length, .. name, 2, 3, 0xfc, .. LE16(1234), 0]; // the position is a packed integer
        var decoder = MySqlDecoder();
        var e = Assert.IsType<HeartbeatEvent>(decoder.Decode(Event(BinlogEventType.HeartbeatV2, body, nextPosition: 1234)));
        Assert.Equal(BinlogEventType.HeartbeatV2, e.Header.EventType);
        Assert.IsType<XidEvent>(decoder.Decode(Xid(5)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unknown_event_types_mid_transaction_are_skipped_by_their_length(bool crc)
    {
        var random = new Random(42);
        byte[] Unknown(byte type, int length)
        {
            var body = new byte[length];
            random.NextBytes(body);
            return Event((BinlogEventType)type, body);
        }

        byte[] file = BinlogFile(crc,
            FormatDescription(crc: crc),
            PreviousGtids(),
            GtidEvent(UuidA, 1),
            Query("shop", "BEGIN"),
            Unknown(0x7F, 37),
            TableMap(TableId, "shop", "stock", TwoInts, Names),
            Unknown(0xC8, 0),
            Rows(BinlogEventType.WriteRowsV2, TableId, 2, [Image(LE32(1), LE32(5)), Image(LE32(2), LE32(unchecked((uint)-3)))]),
            Unknown(0x2F, 300),
            Xid(9),
            Stop());

        using var reader = new BinlogFileReader(new MemoryStream(file), "binlog.000001");
        var events = reader.ReadAll().ToList();
        Assert.Equal(
            [
                BinlogEventType.FormatDescription, BinlogEventType.PreviousGtids, BinlogEventType.Gtid, BinlogEventType.Query,
                (BinlogEventType)0x7F, BinlogEventType.TableMap, (BinlogEventType)0xC8, BinlogEventType.WriteRowsV2,
                (BinlogEventType)0x2F, BinlogEventType.Xid, BinlogEventType.Stop,
            ],
            events.Select(e => e.Header.EventType));
        var unknown = events.OfType<UnknownEvent>().ToList();
        Assert.Equal([19 + 37, 19, 19 + 300], unknown.Select(u => (int)u.Header.EventLength - (crc ? 4 : 0)));
        var rows = Assert.Single(events.OfType<RowsEvent>());
        Assert.Equal(2, rows.Rows.Count);
        Assert.Equal(["1", "5"], rows.Rows[0].After!.Select(v => v.ToString()));
        Assert.Equal(["2", "-3"], rows.Rows[1].After!.Select(v => v.ToString()));
        Assert.Equal(9UL, Assert.IsType<XidEvent>(events[^2]).Xid);
        Assert.Equal(file.Length, reader.Position);
    }

    [Fact]
    public void Event_json_of_a_gtid_transaction_carries_its_gtid_and_an_anonymous_one_null()
    {
        byte[] file = BinlogFile(crc: true,
            FormatDescription(crc: true),
            PreviousGtids((UuidA, [(1, 42)])),
            GtidEvent(UuidA, 42),
            Query("shop", "BEGIN"),
            RowsQuery("INSERT INTO stock VALUES (1, 5), (2, 6)"),
            TableMap(TableId, "shop", "stock", TwoInts, Names),
            Rows(BinlogEventType.WriteRowsV2, TableId, 2, [Image(LE32(1), LE32(5)), Image(LE32(2), LE32(6))]),
            Xid(100),
            GtidEvent(UuidA, 43),
            Query("shop", "BEGIN"),
            TableMap(TableId, "shop", "stock", TwoInts, Names),
            Rows(BinlogEventType.DeleteRowsV2, TableId, 2, [Image(LE32(2), LE32(6))]),
            Xid(101),
            GtidEvent(UuidA, 0, anonymous: true),
            Query("shop", "BEGIN"),
            TableMap(TableId, "shop", "stock", TwoInts, Names),
            Rows(BinlogEventType.UpdateRowsV2, TableId, 2, [Image(LE32(1), LE32(5)), Image(LE32(1), LE32(7))]),
            Xid(102));

        var dir = TestTemp.CreateSubdirectory("gtid-json");
        var path = Path.Combine(dir.FullName, "binlog.000003");
        System.IO.File.WriteAllBytes(path, file);
        using var output = new MemoryStream();
        DecodeCommand.Decode(path, output);

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["insert", "insert", "delete", "update"], lines.Select(l => l.GetProperty("op").GetString()));
        Assert.Equal([$"{UuidA}:42", $"{UuidA}:42", $"{UuidA}:43", null], lines.Select(l => l.GetProperty("gtid").GetString()));
        Assert.All(lines, l => Assert.Equal("binlog.000003", l.GetProperty("file").GetString()));
        Assert.Equal(2, lines[1].GetProperty("after").GetProperty("id").GetInt32());
        Assert.Equal(6, lines[1].GetProperty("after").GetProperty("qty").GetInt32());
        Assert.Equal(7, lines[3].GetProperty("after").GetProperty("qty").GetInt32());
    }
}
