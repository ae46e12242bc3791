using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using PluginHost.Binlog;

namespace PluginHost.Tests.Support;

/// <summary>Builds binlog events byte by byte (v4 header, MySQL 8 / MariaDB layouts) for encodings no server here writes.</summary>
internal static class BinlogEventBuilder
{
    /// <summary>A whole event: 19-byte header, body, and a CRC32 when <paramref name="crc"/>.</summary>
    public static byte[] Event(BinlogEventType type, byte[] body, bool crc = false, uint nextPosition = 0)
    {
        var length = 19 + body.Length + (crc ? 4 : 0);
        var e = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(e, 1_700_000_000);
        e[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(5), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(9), (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(13), nextPosition);
        body.CopyTo(e, 19);
        if (crc) BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(length - 4), Crc32.HashToUInt32(e.AsSpan(0, length - 4)));
        return e;
    }

    /// <summary>FORMAT_DESCRIPTION of a MySQL 8 (or, with a "-MariaDB" version, MariaDB) server.</summary>
    public static byte[] FormatDescription(string serverVersion = "8.0.36", bool crc = false)
    {
        var postHeaders = new byte[41];
        void Set(BinlogEventType t, byte n) => postHeaders[(int)t - 1] = n;
        Set(BinlogEventType.Query, 13);
        Set(BinlogEventType.Rotate, 8);
        Set(BinlogEventType.TableMap, 8);
        foreach (var t in new[] { BinlogEventType.WriteRowsV1, BinlogEventType.UpdateRowsV1, BinlogEventType.DeleteRowsV1 }) Set(t, 8);
        foreach (var t in new[] { BinlogEventType.WriteRowsV2, BinlogEventType.UpdateRowsV2, BinlogEventType.DeleteRowsV2 }) Set(t, 10);
        var body = new List<byte>();
        body.AddRange(LE16(4));
        var version = new byte[50];
        Encoding.ASCII.GetBytes(serverVersion).CopyTo(version, 0);
        body.AddRange(version);
        body.AddRange(LE32(0));
        body.Add(19);
        body.AddRange(postHeaders);
        body.Add(crc ? (byte)1 : (byte)0);
        if (!crc) body.AddRange(new byte[4]); // MySQL writes the checksum field even when checksums are off
        return Event(BinlogEventType.FormatDescription, body.ToArray(), crc);
    }

    public sealed record Col(ColumnType Type, byte[] Meta, bool Nullable = true);

    /// <summary>TABLE_MAP with the given columns and optional-metadata fields (type, bytes) in the given order.</summary>
    public static byte[] TableMap(ulong tableId, string db, string table, IReadOnlyList<Col> columns,
        IEnumerable<(byte Field, byte[] Value)>? metadata = null, bool crc = false)
    {
        var b = new List<byte>();
        b.AddRange(LE48(tableId));
        b.AddRange(LE16(1));
        b.Add((byte)db.Length);
        b.AddRange(Encoding.UTF8.GetBytes(db));
        b.Add(0);
        b.Add((byte)table.Length);
        b.AddRange(Encoding.UTF8.GetBytes(table));
        b.Add(0);
        b.AddRange(LenEnc((ulong)columns.Count));
        foreach (var c in columns) b.Add((byte)c.Type);
        var meta = columns.SelectMany(c => c.Meta).ToArray();
        b.AddRange(LenEnc((ulong)meta.Length));
        b.AddRange(meta);
        var nulls = new byte[(columns.Count + 7) / 8];
        for (var i = 0; i < columns.Count; i++) if (columns[i].Nullable) nulls[i / 8] |= (byte)(1 << (i % 8));
        b.AddRange(nulls);
        foreach (var (field, value) in metadata ?? [])
        {
            b.Add(field);
            b.AddRange(LenEnc((ulong)value.Length));
            b.AddRange(value);
        }
        return Event(BinlogEventType.TableMap, b.ToArray(), crc);
    }

    /// <summary>A v2 rows event with every column present; each image is (null bitmap + values), built by the caller.</summary>
    public static byte[] Rows(BinlogEventType type, ulong tableId, int columns, IEnumerable<byte[]> images, bool crc = false, byte[]? present = null)
    {
        var b = new List<byte>();
        b.AddRange(LE48(tableId));
        b.AddRange(LE16(1));
        if (type is BinlogEventType.WriteRowsV2 or BinlogEventType.UpdateRowsV2 or BinlogEventType.DeleteRowsV2) b.AddRange(LE16(2));
        b.AddRange(LenEnc((ulong)columns));
        var bitmap = present ?? Enumerable.Repeat((byte)0xFF, (columns + 7) / 8).ToArray();
        b.AddRange(bitmap);
        if (type is BinlogEventType.UpdateRowsV1 or BinlogEventType.UpdateRowsV2) b.AddRange(bitmap);
        foreach (var image in images) b.AddRange(image);
        return Event(type, b.ToArray(), crc);
    }

    /// <summary>A row image: the null bitmap for <paramref name="values"/> (null = SQL NULL), then the non-null values.</summary>
    public static byte[] Image(params byte[]?[] values)
    {
        var nulls = new byte[(values.Length + 7) / 8];
        for (var i = 0; i < values.Length; i++) if (values[i] == null) nulls[i / 8] |= (byte)(1 << (i % 8));
        return [.. nulls, .. values.Where(v => v != null).SelectMany(v => v!)];
    }

    public static byte[] LenEnc(ulong v) => v switch
    {
        < 0xFB => [(byte)v],
        <= 0xFFFF => [0xFC, (byte)v, (byte)(v >> 8)],
        <= 0xFFFFFF => [0xFD, (byte)v, (byte)(v >> 8), (byte)(v >> 16)],
        _ => [0xFE, .. BitConverter.GetBytes(v)],
    };

    public static byte[] LenEncString(string s, Encoding? e = null)
    {
        var bytes = (e ?? Encoding.UTF8).GetBytes(s);
        return [.. LenEnc((ulong)bytes.Length), .. bytes];
    }

    public static byte[] LE16(int v) => [(byte)v, (byte)(v >> 8)];
    public static byte[] LE32(uint v) => BitConverter.GetBytes(v);
    public static byte[] LE48(ulong v) => BitConverter.GetBytes(v)[..6];
}
