using System.Runtime.CompilerServices;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Decoding;

/// <summary>Rows events: into a <see cref="RowsEvent"/> of their own, or into a reused <see cref="RowBatch"/>.</summary>
public sealed partial class BinlogEventDecoder
{
    /// <summary>
    /// Decodes a WRITE/UPDATE/DELETE_ROWS event (v1 or v2, neither compressed nor a partial JSON update) into
    /// <paramref name="batch"/>, reusing its arrays, with values that point into <paramref name="data"/>: nothing is
    /// allocated per row or per event. Returns false, having read nothing, for every other event: decode it with
    /// <see cref="Decode"/>. Faults are reported as <see cref="Decode"/> reports them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryDecodeRows(ArraySegment<byte> data, RowBatch batch)
    {
        var span = data.AsSpan();
        if (span.Length < BinlogEventHeader.Size) return false;
        RowChangeKind kind;
        switch ((BinlogEventType)span[4])
        {
            case BinlogEventType.WriteRowsV1 or BinlogEventType.WriteRowsV2: kind = RowChangeKind.Insert; break;
            case BinlogEventType.UpdateRowsV1 or BinlogEventType.UpdateRowsV2: kind = RowChangeKind.Update; break;
            case BinlogEventType.DeleteRowsV1 or BinlogEventType.DeleteRowsV2: kind = RowChangeKind.Delete; break;
            default: return false;
        }
        var header = BinlogEventHeader.Read(span);
        if (header.EventLength != span.Length)
            throw new BinlogFormatException($"{header.EventType} event at {header.Position}: header says {header.EventLength} bytes, got {span.Length}");
        try
        {
            var bodyEnd = span.Length;
            if (Checksum == ChecksumAlgorithm.Crc32)
            {
                if (span.Length < BinlogEventHeader.Size + 4) throw new BinlogFormatException("event too short for its checksum");
                bodyEnd -= 4;
                if (VerifyChecksums) Verify(header, span);
            }
            var rows = ReadRowsPreamble(header, span[BinlogEventHeader.Size..bodyEnd], kind);
            var buffer = data.Array!;
            var pos = data.Offset + BinlogEventHeader.Size + rows.Offset;
            var end = data.Offset + bodyEnd;
            var columns = rows.Table.ColumnArray;
            batch.Start(header, kind, rows.Table, rows.Width);
            while (pos < end)
            {
                if (rows.Count1 == 0 && rows.Count2 == 0) throw rows.NoColumns(end - pos);
                pos = RowImageDecoder.Decode(buffer, pos, end, columns, rows.Present1, rows.Count1, batch.NextImage());
                if (kind == RowChangeKind.Update)
                    pos = RowImageDecoder.Decode(buffer, pos, end, columns, rows.Present2, rows.Count2, batch.NextImage());
                batch.EndRow();
            }
            return true;
        }
        catch (Exception e) when (Describe(header, e) is { } described)
        {
            throw described;
        }
    }

    /// <summary>What precedes the rows of a rows event: its table, which columns each image holds, where the rows start.</summary>
    private ref struct RowsPreamble
    {
        public TableMapEvent Table;
        public ushort Flags;
        public int Width;
        public ReadOnlySpan<byte> Present1, Present2;
        public int Count1, Count2;

        /// <summary>Offset of the first row in the body.</summary>
        public int Offset;

        // An image of no columns takes no bytes: such an event would hold endless rows (it is corrupt).
        public readonly BinlogFormatException NoColumns(int bytesLeft) =>
            new($"rows event for {Table.FullName} has no columns in its row images but {bytesLeft} bytes of rows");
    }

    private RowsPreamble ReadRowsPreamble(BinlogEventHeader header, ReadOnlySpan<byte> body, RowChangeKind kind)
    {
        var compressed = header.EventType is >= BinlogEventType.MariaDbWriteRowsCompressedV1 and <= BinlogEventType.MariaDbDeleteRowsCompressed;
        var v2Type = header.EventType is >= BinlogEventType.WriteRowsV2 and <= BinlogEventType.DeleteRowsV2 or BinlogEventType.PartialUpdateRows
            or >= BinlogEventType.MariaDbWriteRowsCompressed and <= BinlogEventType.MariaDbDeleteRowsCompressed;
        var postHeader = PostHeader(header.EventType, v2Type ? 10 : 8);
        var r = new PacketReader(body);
        var tableId = postHeader == 6 ? r.ReadUInt32() : r.ReadUInt48();
        var flags = r.ReadUInt16();
        // MariaDB tells a compressed event's layout by its post-header length (log_event.cc, row_log_event_uncompress).
        var isV2 = compressed ? postHeader == 10 : v2Type;
        if (isV2)
        {
            var extraLength = r.ReadUInt16();
            if (extraLength < 2) throw new BinlogFormatException($"invalid rows extra-data length {extraLength}");
            r.Skip(extraLength - 2);
        }
        if (!_tables.TryGetValue(tableId, out var table))
            throw new BinlogFormatException($"rows event refers to table id {tableId} with no preceding TABLE_MAP; start reading at a transaction boundary");
        var width = r.ReadLengthEncodedInt32();
        if (width != table.Columns.Count)
            throw new BinlogFormatException($"rows event for {table.FullName} has {width} columns, its table map {table.Columns.Count}");
        var bitmapLength = (width + 7) / 8;
        var p = new RowsPreamble { Table = table, Flags = flags, Width = width };
        p.Present1 = r.ReadBytes(bitmapLength);
        p.Present2 = kind == RowChangeKind.Update ? r.ReadBytes(bitmapLength) : p.Present1;
        p.Count1 = PopCount(p.Present1, width);
        p.Count2 = kind == RowChangeKind.Update ? PopCount(p.Present2, width) : p.Count1;
        p.Offset = r.Position;
        return p;
    }

    private RowsEvent DecodeRows(BinlogEventHeader header, ReadOnlySpan<byte> body, RowChangeKind kind)
    {
        var compressed = header.EventType is >= BinlogEventType.MariaDbWriteRowsCompressedV1 and <= BinlogEventType.MariaDbDeleteRowsCompressed;
        var preamble = ReadRowsPreamble(header, body, kind);
        var (table, width, count1, count2) = (preamble.Table, preamble.Width, preamble.Count1, preamble.Count2);
        var present1 = preamble.Present1;
        var present2 = preamble.Present2;
        var partial = header.EventType == BinlogEventType.PartialUpdateRows;

        // Row values reference this copy of the event body (or its uncompressed row images): one allocation per event,
        // none per column.
        var buffer = compressed ? MariaDbCompression.Uncompress(body[preamble.Offset..]) : body.ToArray();
        var pos = compressed ? 0 : preamble.Offset;
        var end = buffer.Length;
        var rows = new List<RowChange>(Math.Max(1, (end - pos) / Math.Max(1, width * 4)));
        var columns = table.ColumnArray;
        while (pos < end)
        {
            if (count1 == 0 && count2 == 0) throw preamble.NoColumns(end - pos);
            ColumnValue[]? before = null, after = null;
            switch (kind)
            {
                case RowChangeKind.Insert:
                    after = new ColumnValue[width];
                    pos = RowImageDecoder.Decode(buffer, pos, end, columns, present1, count1, after);
                    break;
                case RowChangeKind.Delete:
                    before = new ColumnValue[width];
                    pos = RowImageDecoder.Decode(buffer, pos, end, columns, present1, count1, before);
                    break;
                default:
                    before = new ColumnValue[width];
                    pos = RowImageDecoder.Decode(buffer, pos, end, columns, present1, count1, before);
                    bool[]? partialColumns = null;
                    if (partial) pos = PartialJsonUpdate.ReadSharedImage(buffer, pos, end, columns, out partialColumns);
                    after = new ColumnValue[width];
                    pos = RowImageDecoder.Decode(buffer, pos, end, columns, present2, count2, after);
                    if (partialColumns != null) PartialJsonUpdate.Apply(table, partialColumns, before, after);
                    break;
            }
            rows.Add(new RowChange(before, after));
        }
        return new RowsEvent(header, kind, table, preamble.Flags, rows.ToArray());
    }

    private static int PopCount(ReadOnlySpan<byte> bitmap, int bits)
    {
        var n = 0;
        for (var i = 0; i < bits; i++)
            if ((bitmap[i >> 3] & (1 << (i & 7))) != 0) n++;
        return n;
    }
}
