using PluginHost.Binlog.Events;
using PluginHost.Binlog.Gtid;

namespace PluginHost.Binlog.Decoding;

/// <summary>Decodes MySQL's GTID events (classic and 8.3+ tagged) and heartbeats.</summary>
internal static class ControlEventDecoder
{
    /// <summary>GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT: fixed fields (flags, UUID, GNO, logical clock, timestamps).</summary>
    public static MySqlGtidEvent DecodeGtid(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var r = new PacketReader(body);
        var flags = r.ReadByte();
        var uuid = MySqlGtidEvent.UuidFromBytes(r.ReadBytes(16));
        var gno = (long)r.ReadUInt64();
        long lastCommitted = 0, sequence = 0;
        ulong? commitMicros = null;
        if (r.Remaining >= 17 && r.ReadByte() == 2)
        {
            lastCommitted = (long)r.ReadUInt64();
            sequence = (long)r.ReadUInt64();
            if (r.Remaining >= 7) commitMicros = r.ReadUInt(7) & 0x7FFFFFFFFFFFFF;
        }
        return new MySqlGtidEvent(header, flags, uuid, gno, lastCommitted, sequence, commitMicros);
    }

    /// <summary>
    /// GTID_TAGGED_LOG_EVENT (MySQL 8.3+): one <c>mysql::serialization</c> message (control_events.h, Gtid_event::
    /// define_fields): a version byte, the message size and last non-ignorable field id, then fields by id — 0 flags,
    /// 1 UUID (16 bytes, each a varint), 2 GNO, 3 tag (string of at most 32), 4 last_committed, 5 sequence_number,
    /// 6 immediate_commit_timestamp, 7 original_commit_timestamp (optional), 8 transaction_length,
    /// 9 immediate_server_version, 10 original_server_version (optional), 11 commit_group_ticket (optional).
    /// Fields a newer server adds after these are skipped.
    /// </summary>
    public static MySqlGtidEvent DecodeTaggedGtid(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var pos = 0;
        MySqlSerialization.ReadUnsigned(body, ref pos); // serialization version
        MySqlSerialization.ReadUnsigned(body, ref pos); // message size: the event body is the message
        MySqlSerialization.ReadUnsigned(body, ref pos); // last non-ignorable field id
        var data = body;
        byte flags = 0;
        Span<byte> uuid = stackalloc byte[16];
        long gno = -1, lastCommitted = 0, sequence = 0;
        ulong? commitMicros = null;
        var tag = "";
        var seen = -1;
        while (pos < data.Length)
        {
            var id = (long)MySqlSerialization.ReadUnsigned(data, ref pos);
            if (id <= seen) throw new BinlogFormatException($"tagged GTID field {id} follows field {seen}");
            seen = (int)Math.Min(id, int.MaxValue);
            switch (id)
            {
                case 0: flags = (byte)MySqlSerialization.ReadUnsigned(data, ref pos); break;
                case 1:
                    for (var i = 0; i < 16; i++)
                    {
                        var b = MySqlSerialization.ReadUnsigned(data, ref pos);
                        if (b > 255) throw new BinlogFormatException($"tagged GTID UUID byte {i} is {b}");
                        uuid[i] = (byte)b;
                    }
                    break;
                case 2: gno = MySqlSerialization.ReadSigned(data, ref pos); break;
                case 3:
                {
                    var raw = MySqlSerialization.ReadString(data, ref pos, MySqlGtid.MaxTagLength, "GTID tag");
                    tag = System.Text.Encoding.ASCII.GetString(raw);
                    if (tag.Length > 0 && !MySqlGtid.IsValidTag(tag)) throw new BinlogFormatException($"'{tag}' is not a GTID tag");
                    tag = tag.ToLowerInvariant();
                    break;
                }
                case 4: lastCommitted = MySqlSerialization.ReadSigned(data, ref pos); break;
                case 5: sequence = MySqlSerialization.ReadSigned(data, ref pos); break;
                case 6: commitMicros = MySqlSerialization.ReadUnsigned(data, ref pos); break;
                case 7 or 8 or 9 or 10 or 11: MySqlSerialization.ReadUnsigned(data, ref pos); break;
                default: pos = data.Length; break; // a field this decoder does not know: the rest is newer fields
            }
        }
        if (gno < 1) throw new BinlogFormatException($"tagged GTID has no valid transaction number ({gno})");
        return new MySqlGtidEvent(header, flags, MySqlGtidEvent.UuidFromBytes(uuid), gno, lastCommitted, sequence, commitMicros, tag);
    }

    /// <summary>
    /// HEARTBEAT_LOG_EVENT_V2: fields of a type byte, a packed-integer length and the value — 1 the log file name,
    /// 2 the position (itself a packed integer) — ended by a 0 byte.
    /// </summary>
    public static HeartbeatEvent DecodeHeartbeatV2(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var r = new PacketReader(body);
        string file = "";
        ulong? position = null;
        while (r.Remaining > 0)
        {
            var type = r.ReadByte();
            if (type == 0) break;
            var length = r.ReadLengthEncodedInt32();
            var value = r.ReadBytes(length);
            switch (type)
            {
                case 1: file = System.Text.Encoding.UTF8.GetString(value); break;
                case 2:
                {
                    var v = new PacketReader(value);
                    position = v.ReadLengthEncoded();
                    if (v.Remaining != 0) throw new BinlogFormatException($"heartbeat position field of {length} bytes holds a {length - v.Remaining}-byte integer");
                    break;
                }
                default: throw new BinlogFormatException($"heartbeat v2 has unknown field type {type}");
            }
        }
        return new HeartbeatEvent(header, file, position);
    }
}
