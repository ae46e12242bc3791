using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using PluginHost.Binlog;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Support;

/// <summary>
/// Builds the bodies of binlog control events (GTID, PREVIOUS_GTIDS, QUERY, XID, ROWS_QUERY, ANNOTATE_ROWS, HEARTBEAT, STOP)
/// from the layouts in MySQL's and MariaDB's replication protocol documentation, and links events into a stream.
/// </summary>
internal static class ControlEventBuilder
{
    /// <summary>The 16 bytes of a server UUID in the order MySQL prints it.</summary>
    public static byte[] UuidBytes(string uuid) => Convert.FromHexString(uuid.Replace("-", ""));

    /// <summary>
    /// GTID_LOG_EVENT (33) or ANONYMOUS_GTID_LOG_EVENT (34), MySQL 8 layout: 42-byte post-header (flags 1, SID 16, GNO 8,
    /// logical-clock type code 1 = 2, last_committed 8, sequence_number 8), then immediate_commit_timestamp (7 bytes,
    /// top bit clear: no separate original timestamp), transaction_length (length-encoded) and immediate_server_version (4).
    /// </summary>
    public static byte[] GtidEvent(string uuid, long gno, bool anonymous = false, long lastCommitted = 0, long sequenceNumber = 1,
        ulong commitMicros = 1_700_000_000_123_456, ulong transactionLength = 300)
    {
        var b = new List<byte> { 0x00 };
        b.AddRange(anonymous ? new byte[16] : UuidBytes(uuid));
        b.AddRange(BitConverter.GetBytes(gno));
        b.Add(2);
        b.AddRange(BitConverter.GetBytes(lastCommitted));
        b.AddRange(BitConverter.GetBytes(sequenceNumber));
        b.AddRange(BitConverter.GetBytes(commitMicros)[..7]);
        b.AddRange(LenEnc(transactionLength));
        b.AddRange(LE32(80036));
        return Event(anonymous ? BinlogEventType.AnonymousGtid : BinlogEventType.Gtid, b.ToArray());
    }

    /// <summary>
    /// PREVIOUS_GTIDS_LOG_EVENT (35): n_sids (8), then per SID its 16 bytes, n_intervals (8) and each interval as
    /// start (8) and end (8, exclusive).
    /// </summary>
    public static byte[] PreviousGtids(params (string Uuid, (long Start, long EndExclusive)[] Intervals)[] sids) =>
        Event(BinlogEventType.PreviousGtids, GtidSetBytes(sids));

    /// <summary>The encoded GTID set used by PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID.</summary>
    public static byte[] GtidSetBytes(params (string Uuid, (long Start, long EndExclusive)[] Intervals)[] sids)
    {
        var b = new List<byte>();
        b.AddRange(BitConverter.GetBytes((long)sids.Length));
        foreach (var (uuid, intervals) in sids)
        {
            b.AddRange(UuidBytes(uuid));
            b.AddRange(BitConverter.GetBytes((long)intervals.Length));
            foreach (var (start, end) in intervals)
            {
                b.AddRange(BitConverter.GetBytes(start));
                b.AddRange(BitConverter.GetBytes(end));
            }
        }
        return b.ToArray();
    }

    /// <summary>QUERY_EVENT (2): thread id (4), exec time (4), db length (1), error code (2), status-vars length (2), status vars,
    /// db name, NUL, SQL text.</summary>
    public static byte[] Query(string database, string sql)
    {
        var db = Encoding.UTF8.GetBytes(database);
        byte[] status = [0x00, 0x00, 0x00, 0x00, 0x00]; // Q_FLAGS2_CODE (0) with 4 bytes of flags
        return Event(BinlogEventType.Query,
            [.. LE32(11), .. LE32(0), (byte)db.Length, .. LE16(0), .. LE16(status.Length), .. status, .. db, 0, .. Encoding.UTF8.GetBytes(sql)]);
    }

    /// <summary>XID_EVENT (16): the 8-byte transaction id.</summary>
    public static byte[] Xid(ulong xid) => Event(BinlogEventType.Xid, BitConverter.GetBytes(xid));

    /// <summary>MySQL ROWS_QUERY_LOG_EVENT (29): one length byte (the text length, capped at 255; readers ignore it), then the text.</summary>
    public static byte[] RowsQuery(string sql)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        return Event(BinlogEventType.RowsQuery, [(byte)Math.Min(255, text.Length), .. text]);
    }

    /// <summary>MariaDB ANNOTATE_ROWS_EVENT (160): the statement text, nothing else.</summary>
    public static byte[] AnnotateRows(string sql) => Event(BinlogEventType.MariaDbAnnotateRows, Encoding.UTF8.GetBytes(sql));

    /// <summary>HEARTBEAT_LOG_EVENT (27): timestamp 0, next position = the position reached, body = the current log file name.</summary>
    public static byte[] Heartbeat(string logFile, uint position)
    {
        var e = Event(BinlogEventType.Heartbeat, Encoding.ASCII.GetBytes(logFile), nextPosition: position);
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0);
        return e;
    }

    /// <summary>STOP_EVENT (3): no body.</summary>
    public static byte[] Stop() => Event(BinlogEventType.Stop, []);

    /// <summary>
    /// Links events (built without checksums, except a FORMAT_DESCRIPTION built with <c>crc: true</c>) into a stream starting at
    /// <paramref name="start"/>: sets every header's next position and, when <paramref name="crc"/>, appends or recomputes CRC32s.
    /// </summary>
    public static List<byte[]> Link(long start, bool crc, params byte[][] events)
    {
        var result = new List<byte[]>();
        var position = start;
        foreach (var original in events)
        {
            var e = original;
            if (crc && (BinlogEventType)e[4] != BinlogEventType.FormatDescription)
            {
                e = [.. e, 0, 0, 0, 0];
                BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(9), (uint)e.Length);
            }
            position += e.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(13), (uint)position);
            if (crc) BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(e.Length - 4), Crc32.HashToUInt32(e.AsSpan(0, e.Length - 4)));
            result.Add(e);
        }
        return result;
    }

    /// <summary>A binlog file: the magic bytes, then the linked events.</summary>
    public static byte[] BinlogFile(bool crc, params byte[][] events) =>
        [0xFE, (byte)'b', (byte)'i', (byte)'n', .. Link(4, crc, events).SelectMany(e => e)];
}
