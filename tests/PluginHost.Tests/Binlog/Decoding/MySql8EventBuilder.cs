using System.Text;
using PluginHost.Binlog;
using PluginHost.Tests.Binlog.Json;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// Builds MySQL 8 events byte by byte from the server's documentation: PARTIAL_UPDATE_ROWS_EVENT (rows_event.h: before
/// image, shared image of value_options and partial_bits, after image whose partial JSON columns hold a diff vector,
/// sql/json_diff.cc) and GTID_TAGGED_LOG_EVENT (a mysql::serialization message, libs/mysql/serialization/readme.md).
/// </summary>
internal static class MySql8EventBuilder
{
    /// <summary>A JSON column value in a row image: 4-byte length and MySQL binary JSON.</summary>
    public static byte[] JsonValue(string json)
    {
        var binary = MySqlJsonTestEncoder.Encode(json);
        return [.. LE32((uint)binary.Length), .. binary];
    }

    /// <summary>A diff vector as the after image holds it: 4-byte length, then per diff the operation, the packed
    /// length and text of the path and, unless removing, the packed length and binary JSON of the value.</summary>
    public static byte[] Diffs(params (byte Op, string Path, string? Json)[] diffs)
    {
        var body = new List<byte>();
        foreach (var (op, path, json) in diffs)
        {
            body.Add(op);
            body.AddRange(LenEncString(path));
            if (json is null) continue;
            var value = MySqlJsonTestEncoder.Encode(json);
            body.AddRange(LenEnc((ulong)value.Length));
            body.AddRange(value);
        }
        return [.. LE32((uint)body.Count), .. body];
    }

    /// <summary>PARTIAL_UPDATE_ROWS_EVENT with every column in both images; each row is (before, shared, after).</summary>
    public static byte[] PartialUpdateRows(ulong tableId, int columns, params (byte[] Before, byte[] Shared, byte[] After)[] rows)
    {
        var b = new List<byte>();
        b.AddRange(LE48(tableId));
        b.AddRange(LE16(1));
        b.AddRange(LE16(2));
        b.AddRange(LenEnc((ulong)columns));
        var bitmap = Enumerable.Repeat((byte)0xFF, (columns + 7) / 8).ToArray();
        b.AddRange(bitmap);
        b.AddRange(bitmap);
        foreach (var (before, shared, after) in rows)
        {
            b.AddRange(before);
            b.AddRange(shared);
            b.AddRange(after);
        }
        return Event(BinlogEventType.PartialUpdateRows, b.ToArray());
    }

    /// <summary>An unsigned mysql::serialization varint, written from the readme's description (independent of the decoder).</summary>
    public static byte[] Varint(ulong value)
    {
        for (var length = 1; length <= 8; length++)
        {
            if (length < 8 ? value >= 1UL << (7 * length) : value >= 1UL << 56) continue;
            var raw = (value << length) | ((1UL << (length - 1)) - 1);
            return BitConverter.GetBytes(raw)[..length];
        }
        return [0xFF, .. BitConverter.GetBytes(value)];
    }

    public static byte[] SignedVarint(long value) => Varint(value >= 0 ? (ulong)value << 1 : ((ulong)(-(value + 1)) << 1) | 1);

    /// <summary>GTID_TAGGED_LOG_EVENT body fields by id (Gtid_event::define_fields), optional ones left out unless given.</summary>
    public static byte[] TaggedGtid(string uuid, string tag, long gno, long lastCommitted = 0, long sequence = 1,
        ulong commitMicros = 1_700_000_000_000_000, ulong? originalCommitMicros = null, ulong? commitTicket = null, byte[]? extraFields = null)
    {
        var fields = new List<byte>();
        void Field(int id, byte[] data) { fields.AddRange(Varint((ulong)id)); fields.AddRange(data); }
        Field(0, Varint(0));
        Field(1, Convert.FromHexString(uuid.Replace("-", "")).SelectMany(x => Varint(x)).ToArray());
        Field(2, SignedVarint(gno));
        Field(3, [.. Varint((ulong)tag.Length), .. Encoding.ASCII.GetBytes(tag)]);
        Field(4, SignedVarint(lastCommitted));
        Field(5, SignedVarint(sequence));
        Field(6, Varint(commitMicros));
        if (originalCommitMicros is { } o) Field(7, Varint(o));
        Field(8, Varint(1234));
        Field(9, Varint(80400));
        if (commitTicket is { } t) Field(11, Varint(t));
        if (extraFields != null) fields.AddRange(extraFields);
        // version 0, then the message size and the last non-ignorable field id (11)
        byte[] header = [.. Varint(0), .. Varint((ulong)fields.Count + 3), .. Varint(11)];
        return Event(BinlogEventType.GtidTagged, [.. header, .. fields]);
    }
}
