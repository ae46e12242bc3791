using System.Buffers.Binary;
using System.Text;
using PluginHost.Binlog.Decoding;

namespace PluginHost.Binlog.Gtid;

public sealed partial class MySqlGtidSet
{
    /// <summary>
    /// The binary encoding used by COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS_LOG_EVENT, all integers little-endian.
    /// Untagged: uint64 number of UUIDs; per UUID (ascending): 16 UUID bytes in text order, uint64 number of intervals,
    /// and per interval int64 first and int64 end, the end being exclusive (last + 1). When the set has a tag, MySQL
    /// 8.3+'s tagged form: a byte 1 (format version), the number of (UUID, tag) entries in 6 bytes, a byte 1 (tagged
    /// marker); per entry the UUID, the tag as a <c>mysql::serialization</c> string ("" for untagged), then the intervals.
    /// </summary>
    public byte[] Encode()
    {
        var keys = SortedKeys();
        var tagged = keys.Any(k => k.Tag.Length > 0);
        var output = new List<byte>(8 + keys.Length * 40);
        Span<byte> word = stackalloc byte[8];
        if (tagged)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(word, (ulong)keys.Length << 8);
            word[0] = 1;
            word[7] = 1;
        }
        else BinaryPrimitives.WriteUInt64LittleEndian(word, (ulong)keys.Length);
        output.AddRange(word);
        Span<byte> uuid = stackalloc byte[16];
        foreach (var key in keys)
        {
            WriteUuid(key.Uuid, uuid);
            output.AddRange(uuid);
            if (tagged)
            {
                MySqlSerialization.WriteUnsigned(output, (ulong)key.Tag.Length);
                output.AddRange(Encoding.ASCII.GetBytes(key.Tag));
            }
            var list = _sets[key];
            BinaryPrimitives.WriteUInt64LittleEndian(word, (ulong)list.Count);
            output.AddRange(word);
            for (var i = 0; i < list.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(word, list[i].First);
                output.AddRange(word);
                BinaryPrimitives.WriteInt64LittleEndian(word, list[i].Last + 1);
                output.AddRange(word);
            }
        }
        return output.ToArray();
    }

    /// <summary>Decodes either binary form written by <see cref="Encode"/>; every byte must belong to the set.</summary>
    /// <exception cref="FormatException">The data is truncated, has trailing bytes, or holds an invalid interval or tag.</exception>
    public static MySqlGtidSet Decode(ReadOnlySpan<byte> data)
    {
        var set = Decode(data, out var consumed);
        if (consumed != data.Length)
            throw new FormatException($"encoded GTID set has {data.Length - consumed} unexpected trailing bytes");
        return set;
    }

    /// <summary>Decodes either binary form written by <see cref="Encode"/> from the start of <paramref name="data"/>.</summary>
    /// <param name="data">The encoding, possibly followed by other bytes.</param>
    /// <param name="bytesConsumed">How many bytes the set occupied.</param>
    /// <exception cref="FormatException">The data is truncated or holds an invalid interval or tag.</exception>
    public static MySqlGtidSet Decode(ReadOnlySpan<byte> data, out int bytesConsumed)
    {
        if (data.Length < 8)
            throw new FormatException($"encoded GTID set truncated: {data.Length} bytes, at least 8 needed");
        var tagged = data[7] != 0;
        if (tagged && (data[7] != 1 || data[0] != 1))
            throw new FormatException($"encoded GTID set has unknown format (marker {data[7]}, version {data[0]})");
        var count = tagged
            ? BinaryPrimitives.ReadUInt64LittleEndian(data) >> 8 & 0xFFFF_FFFF_FFFF
            : BinaryPrimitives.ReadUInt64LittleEndian(data);
        var pos = 8;
        if (count > (ulong)(data.Length - pos) / 24)
            throw new FormatException($"encoded GTID set claims {count} UUIDs but has only {data.Length} bytes");
        var set = new MySqlGtidSet();
        for (ulong s = 0; s < count; s++)
        {
            if (data.Length - pos < 24)
                throw new FormatException($"encoded GTID set truncated at byte {pos} (UUID {s})");
            var uuid = ReadUuid(data[pos..]);
            pos += 16;
            var tag = "";
            if (tagged)
            {
                try
                {
                    var bytes = MySqlSerialization.ReadString(data, ref pos, MySqlGtid.MaxTagLength, "GTID tag");
                    tag = Encoding.ASCII.GetString(bytes);
                }
                catch (BinlogFormatException e)
                {
                    throw new FormatException($"encoded GTID set: {e.Message}", e);
                }
                if (tag.Length > 0 && !MySqlGtid.IsValidTag(tag))
                    throw new FormatException($"encoded GTID set has an invalid tag '{tag}' for {uuid}");
                if (data.Length - pos < 8)
                    throw new FormatException($"encoded GTID set truncated at byte {pos} (UUID {s})");
            }
            var intervals = BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]);
            pos += 8;
            if (intervals > (ulong)(data.Length - pos) / 16)
                throw new FormatException($"encoded GTID set claims {intervals} intervals for {uuid} but the data is too short");
            for (ulong i = 0; i < intervals; i++)
            {
                var start = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
                var end = BinaryPrimitives.ReadInt64LittleEndian(data[(pos + 8)..]);
                if (start < 1 || end <= start)
                    throw new FormatException($"encoded GTID set has invalid interval [{start}, {end}) for {uuid} at byte {pos}");
                set.AddRange(uuid, start, end - 1, tag);
                pos += 16;
            }
        }
        bytesConsumed = pos;
        return set;
    }

    /// <summary>Reads a UUID from 16 bytes in text order (big-endian), as MySQL sends it.</summary>
    internal static Guid ReadUuid(ReadOnlySpan<byte> bytes) => new(bytes[..16], bigEndian: true);

    /// <summary>Writes a UUID as 16 bytes in text order (big-endian).</summary>
    internal static void WriteUuid(Guid uuid, Span<byte> dest) => uuid.TryWriteBytes(dest, bigEndian: true, out _);
}
