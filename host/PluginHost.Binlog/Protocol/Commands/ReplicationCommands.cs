using PluginHost.Binlog.Protocol.Framing;

namespace PluginHost.Binlog.Protocol.Commands;

/// <summary>Serializes the replication commands COM_REGISTER_SLAVE, COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID.</summary>
internal static class ReplicationCommands
{
    /// <summary>COM_REGISTER_SLAVE: server id, report host/user/password (1-byte length strings), report port, rank, master id.</summary>
    public static void WriteRegisterSlave(PacketWriter writer, uint serverId, string reportHost, string reportUser, string reportPassword, ushort reportPort)
    {
        writer.WriteByte((byte)CommandCode.RegisterSlave);
        writer.WriteUInt32(serverId);
        writer.WriteByteLengthString(reportHost);
        writer.WriteByteLengthString(reportUser);
        writer.WriteByteLengthString(reportPassword);
        writer.WriteUInt16(reportPort);
        writer.WriteUInt32(0); // replication rank (ignored)
        writer.WriteUInt32(0); // master id (filled in by the server)
    }

    /// <summary>COM_BINLOG_DUMP: position (uint32), flags (uint16), server id (uint32), file name (rest of packet).</summary>
    public static void WriteBinlogDump(PacketWriter writer, string fileName, uint position, BinlogDumpFlags flags, uint serverId)
    {
        writer.WriteByte((byte)CommandCode.BinlogDump);
        writer.WriteUInt32(position);
        writer.WriteUInt16((ushort)flags);
        writer.WriteUInt32(serverId);
        writer.WriteString(fileName);
    }

    /// <summary>
    /// COM_BINLOG_DUMP_GTID: flags (uint16), server id (uint32), file name length (uint32), file name,
    /// position (uint64), GTID data size (uint32) and the encoded GTID set. BINLOG_THROUGH_GTID is always set.
    /// </summary>
    public static void WriteBinlogDumpGtid(PacketWriter writer, ReadOnlySpan<byte> encodedGtidSet, uint serverId, BinlogDumpGtidFlags flags, string fileName, ulong position)
    {
        flags |= BinlogDumpGtidFlags.ThroughGtid;
        writer.WriteByte((byte)CommandCode.BinlogDumpGtid);
        writer.WriteUInt16((ushort)flags);
        writer.WriteUInt32(serverId);
        writer.WriteUInt32((uint)System.Text.Encoding.UTF8.GetByteCount(fileName));
        writer.WriteString(fileName);
        writer.WriteUInt64(position);
        writer.WriteUInt32((uint)encodedGtidSet.Length);
        writer.WriteBytes(encodedGtidSet);
    }
}
