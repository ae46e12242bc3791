using System.IO.Hashing;
using System.Text;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Binlog.Protocol;
using static PluginHost.Tests.Support.BinlogEventBuilder;
using static PluginHost.Tests.Support.ControlEventBuilder;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>
/// The MySQL flavour without a MySQL server: GTID-set bookkeeping of <see cref="TransactionTracker"/> over MySQL event
/// streams built from the documented layouts, and a whole COM_BINLOG_DUMP_GTID session of <see cref="BinlogClient"/>
/// against the scripted <see cref="FakeMySqlServer"/>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MySqlFlavorTests
{
    private const string UuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string UuidB = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
    private const ulong TableId = 70;

    private static readonly IReadOnlyList<Col> TwoInts = [new(ColumnType.Long, []), new(ColumnType.Long, [])];
    private static readonly (byte, byte[])[] Names = [(4, [.. LenEncString("id"), .. LenEncString("qty")])];

    private static byte[][] Transaction(string uuid, long gno, int id) =>
    [
        GtidEvent(uuid, gno),
        Query("shop", "BEGIN"),
        TableMap(TableId, "shop", "stock", TwoInts, Names),
        Rows(BinlogEventType.WriteRowsV2, TableId, 2, [Image(LE32((uint)id), LE32(1))]),
        Xid((ulong)gno),
    ];

    /// <summary>Decodes a linked stream (FORMAT_DESCRIPTION first) event by event.</summary>
    private static List<BinlogEvent> DecodeStream(params byte[][] events)
    {
        var decoder = new BinlogEventDecoder();
        return Link(4, crc: false, [FormatDescription(), .. events]).Select(e => decoder.Decode(e)).ToList();
    }

    [Fact]
    public void Previous_gtids_seed_the_state_and_each_committed_transaction_is_added()
    {
        var events = DecodeStream(
            [PreviousGtids((UuidA, [(1, 42)])), .. Transaction(UuidA, 42, 1), GtidEvent(UuidA, 43), Query("shop", "CREATE TABLE t2 (id INT)")]);
        var tracker = new TransactionTracker(new BinlogPosition("binlog.000002", 4), ServerFlavor.MySql);

        var seen = new List<(BinlogEventType Type, bool Ended, string? Committed, string? Current, bool InTransaction)>();
        foreach (var e in events)
        {
            var ended = tracker.Observe(e);
            seen.Add((e.Header.EventType, ended, tracker.Committed.Gtid, tracker.CurrentGtid, tracker.InTransaction));
        }

        Assert.Equal(
            [
                (BinlogEventType.FormatDescription, false, null, null, false),
                (BinlogEventType.PreviousGtids, false, $"{UuidA}:1-41", null, false),
                (BinlogEventType.Gtid, false, $"{UuidA}:1-41", $"{UuidA}:42", true),
                (BinlogEventType.Query, false, $"{UuidA}:1-41", $"{UuidA}:42", true),
                (BinlogEventType.TableMap, false, $"{UuidA}:1-41", $"{UuidA}:42", true),
                (BinlogEventType.WriteRowsV2, false, $"{UuidA}:1-41", $"{UuidA}:42", true),
                (BinlogEventType.Xid, true, $"{UuidA}:1-42", null, false),
                (BinlogEventType.Gtid, false, $"{UuidA}:1-42", $"{UuidA}:43", true),
                (BinlogEventType.Query, true, $"{UuidA}:1-43", null, false), // DDL: GTID + one QUERY
            ],
            seen);
        Assert.Equal("binlog.000002", tracker.Committed.File);
        Assert.Equal(events[^1].Header.NextPosition, (uint)tracker.Committed.Position);
    }

    [Fact]
    public void Gaps_other_servers_and_anonymous_transactions()
    {
        var events = DecodeStream(
        [
            PreviousGtids((UuidA, [(1, 6)])),
            .. Transaction(UuidA, 7, 1),    // leaves a gap at 6
            .. Transaction(UuidB, 1, 2),    // another source server
            .. Transaction(UuidA, 6, 3),    // fills the gap
            GtidEvent(UuidA, 0, anonymous: true), Query("shop", "BEGIN"), Xid(99),
        ]);
        var tracker = new TransactionTracker(new BinlogPosition("binlog.000001", 4), ServerFlavor.MySql);
        var committed = new List<string?>();
        foreach (var e in events)
            if (tracker.Observe(e)) committed.Add(tracker.Committed.Gtid);

        Assert.Equal(
            [$"{UuidA}:1-5:7", $"{UuidB}:1,{UuidA}:1-5:7", $"{UuidB}:1,{UuidA}:1-7", $"{UuidB}:1,{UuidA}:1-7"],
            committed);
        Assert.Equal(events[^1].Header.NextPosition, (uint)tracker.Committed.Position);
    }

    [Fact]
    public void A_gtid_start_keeps_its_set_over_the_previous_gtids_of_the_file()
    {
        // The server streams the file holding the first missing transaction; its PREVIOUS_GTIDS is older than the start set.
        var events = DecodeStream([PreviousGtids((UuidA, [(1, 6)])), .. Transaction(UuidA, 11, 1)]);
        var tracker = new TransactionTracker(new BinlogPosition("", 0, $"{UuidA}:1-10"), ServerFlavor.MySql);
        foreach (var e in events.Take(2)) tracker.Observe(e);
        Assert.Equal($"{UuidA}:1-10", tracker.Committed.Gtid);
        foreach (var e in events.Skip(2)) tracker.Observe(e);
        Assert.Equal($"{UuidA}:1-11", tracker.Committed.Gtid);
    }

    [Fact]
    public void An_interrupted_transaction_is_forgotten_and_not_added_to_the_resume_set()
    {
        var events = DecodeStream([PreviousGtids((UuidA, [(1, 3)])), .. Transaction(UuidA, 3, 1)]);
        var tracker = new TransactionTracker(new BinlogPosition("binlog.000001", 4), ServerFlavor.MySql);
        foreach (var e in events.Take(5)) tracker.Observe(e); // up to the rows, before the XID
        var before = tracker.Committed;
        Assert.True(tracker.InTransaction);

        tracker.Restart();

        Assert.False(tracker.InTransaction);
        Assert.Null(tracker.CurrentGtid);
        Assert.Equal(before, tracker.Committed);
        Assert.Equal($"{UuidA}:1-2", tracker.Committed.Gtid);
    }

    [Fact]
    public async Task Gtid_dump_session_streams_a_gtid_transaction_to_the_client()
    {
        const uint serverId = 4242;
        // The server has executed A:1-43; the client has A:1-42, so the dump sends binlog.000002 from its start
        // (transactions the client has are skipped by the server) and the client receives A:43.
        var stream = Link(4, crc: true,
        [
            FormatDescription(crc: true),
            PreviousGtids((UuidA, [(1, 43)])),
            .. Transaction(UuidA, 43, 7)[..3],
            Event((BinlogEventType)0xC9, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), // a type this client does not know, mid-transaction
            .. Transaction(UuidA, 43, 7)[3..],
        ]);
        byte[] artificialRotate = WithCrc(Event(BinlogEventType.Rotate, [.. BitConverter.GetBytes(4UL), .. Encoding.ASCII.GetBytes("binlog.000002")]));
        artificialRotate.AsSpan(0, 4).Clear(); // timestamp 0, next position 0: made up by the dump, not in the file
        artificialRotate = WithCrc(artificialRotate[..^4]);
        byte[] heartbeat = WithCrc(Heartbeat("binlog.000002", (uint)(4 + stream.Sum(e => e.Length))));

        await using var server = new FakeMySqlServer(async s =>
        {
            await s.SendAsync(0, FakePackets.Handshake("8.0.36", 3, Enumerable.Range(1, 20).Select(i => (byte)i).ToArray(),
                FakePackets.MySql8Capabilities, "mysql_native_password"));
            await s.ReceiveAsync(1);
            await s.SendAsync(2, FakePackets.Ok());

            Assert.StartsWith("SELECT @@GLOBAL.log_bin", await ExpectQueryAsync(s));
            await SendRowsAsync(s, ["log_bin", "binlog_format", "binlog_row_image", "binlog_checksum"], ["1", "ROW", "FULL", "CRC32"]);
            Assert.Equal("SELECT @@GLOBAL.binlog_row_metadata", await ExpectQueryAsync(s));
            await SendRowsAsync(s, ["binlog_row_metadata"], ["FULL"]);
            Assert.Equal("SELECT @@GLOBAL.gtid_mode", await ExpectQueryAsync(s));
            await SendRowsAsync(s, ["gtid_mode"], ["ON"]);
            Assert.StartsWith("SHOW GRANTS", await ExpectQueryAsync(s));
            await SendRowsAsync(s, ["Grants"], ["GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`"]);
            Assert.Equal("SET @master_binlog_checksum = @@global.binlog_checksum", await ExpectQueryAsync(s));
            await s.SendAsync(1, FakePackets.Ok());
            Assert.StartsWith("SET @master_heartbeat_period = ", await ExpectQueryAsync(s));
            await s.SendAsync(1, FakePackets.Ok());

            byte[] register = await s.ReceiveAsync(0);
            Assert.Equal(0x15, register[0]);
            Assert.Equal(serverId, BitConverter.ToUInt32(register, 1));
            await s.SendAsync(1, FakePackets.Ok());

            // COM_BINLOG_DUMP_GTID: flags (BINLOG_THROUGH_GTID), server id, empty file name, position 4, the encoded set A:1-42.
            byte[] set = GtidSetBytes((UuidA, [(1, 43)]));
            Assert.Equal(
                FakePackets.Concat([0x1E], FakePackets.LE16(4), FakePackets.LE32(serverId), FakePackets.LE32(0), BitConverter.GetBytes(4UL),
                    FakePackets.LE32((uint)set.Length), set),
                await s.ReceiveAsync(0));
            byte seq = 1;
            foreach (var e in (byte[][])[artificialRotate, .. stream, heartbeat]) await s.SendAsync(seq++, [0x00, .. e]);
            Assert.True(await s.WaitForCloseAsync());
        });

        var options = new BinlogClientOptions
        {
            Connection = new ConnectionOptions { Host = "127.0.0.1", Port = server.Port, User = "repl", Password = "pw", ConnectTimeout = TimeSpan.FromSeconds(20) },
            ServerId = serverId,
            Start = BinlogStart.AtGtid($"{UuidA}:1-42"),
            Reconnect = false,
        };
        var received = new List<BinlogEvent>();
        var gtidDuringRows = (string?)null;
        await using (var client = new BinlogClient(options))
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var e in client.ReadAsync(cancellationToken: guard.Token))
            {
                received.Add(e);
                if (e is RowsEvent) gtidDuringRows = client.CurrentGtid;
                if (e is HeartbeatEvent) break;
            }
            Assert.Equal(ServerFlavor.MySql, client.Server!.Flavor);
            Assert.Equal(ChecksumAlgorithm.Crc32, client.Server.Checksum);
            Assert.Equal(new BinlogPosition("binlog.000002", 4 + stream.Sum(e => e.Length), $"{UuidA}:1-43"), client.Committed);
        }
        await server.CompleteAsync();

        Assert.Equal(
            [
                BinlogEventType.Rotate, BinlogEventType.FormatDescription, BinlogEventType.PreviousGtids, BinlogEventType.Gtid,
                BinlogEventType.Query, BinlogEventType.TableMap, (BinlogEventType)0xC9, BinlogEventType.WriteRowsV2, BinlogEventType.Xid,
                BinlogEventType.Heartbeat,
            ],
            received.Select(e => e.Header.EventType));
        Assert.Equal($"{UuidA}:43", received.OfType<MySqlGtidEvent>().Single().Gtid);
        Assert.Equal($"{UuidA}:43", gtidDuringRows);
        var rows = received.OfType<RowsEvent>().Single();
        Assert.Equal(["id", "qty"], rows.Table.Columns.Select(c => c.Name));
        Assert.Equal("7", rows.Rows[0].After![0].ToString());
    }

    private static byte[] WithCrc(byte[] e)
    {
        byte[] r = [.. e, 0, 0, 0, 0];
        BitConverter.GetBytes((uint)r.Length).CopyTo(r, 9);
        BitConverter.GetBytes(Crc32.HashToUInt32(r.AsSpan(0, r.Length - 4))).CopyTo(r, r.Length - 4);
        return r;
    }

    private static async Task<string> ExpectQueryAsync(FakeSession s)
    {
        byte[] packet = await s.ReceiveAsync(0);
        Assert.Equal(0x03, packet[0]); // COM_QUERY
        return Encoding.UTF8.GetString(packet, 1, packet.Length - 1);
    }

    /// <summary>A text result set of one row, CLIENT_DEPRECATE_EOF style (ends with an OK packet with header 0xFE).</summary>
    private static async Task SendRowsAsync(FakeSession s, string[] columns, string?[] row)
    {
        byte seq = 1;
        await s.SendAsync(seq++, [(byte)columns.Length]);
        foreach (var c in columns) await s.SendAsync(seq++, FakePackets.ColumnDefinition(c));
        await s.SendAsync(seq++, FakePackets.Row(row));
        await s.SendAsync(seq, FakePackets.Ok(header: 0xFE));
    }
}
