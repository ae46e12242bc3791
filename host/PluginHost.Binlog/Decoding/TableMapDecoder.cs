using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Decoding;

/// <summary>Decodes TABLE_MAP_EVENT bodies, including the optional metadata of binlog_row_metadata=MINIMAL/FULL.</summary>
internal static class TableMapDecoder
{
    private enum MetadataField : byte
    {
        Signedness = 1,
        DefaultCharset = 2,
        ColumnCharset = 3,
        ColumnName = 4,
        SetStrValue = 5,
        EnumStrValue = 6,
        GeometryType = 7,
        SimplePrimaryKey = 8,
        PrimaryKeyWithPrefix = 9,
        EnumAndSetDefaultCharset = 10,
        EnumAndSetColumnCharset = 11,
        ColumnVisibility = 12,
    }

    /// <param name="isMariaDb">The binlog was written by MariaDB, whose optional metadata counts YEAR columns in the
    /// SIGNEDNESS bitmap and GEOMETRY columns in the character-set lists (MySQL counts neither).</param>
    public static TableMapEvent Decode(BinlogEventHeader header, ReadOnlySpan<byte> body, int postHeaderLength, bool isMariaDb = false)
    {
        var r = new PacketReader(body);
        var tableId = postHeaderLength == 6 ? r.ReadUInt32() : r.ReadUInt48();
        var flags = r.ReadUInt16();
        if (postHeaderLength > 8) r.Skip(postHeaderLength - 8);
        var database = r.ReadString(r.ReadByte());
        r.Skip(1);
        var table = r.ReadString(r.ReadByte());
        r.Skip(1);
        var count = r.ReadLengthEncodedInt32();
        if (count > 4096) throw new BinlogFormatException($"table map for {database}.{table} claims {count} columns");
        var types = r.ReadBytes(count);
        var metaLength = r.ReadLengthEncodedInt32();
        var metaReader = new PacketReader(r.ReadBytes(metaLength));
        var nullBitmap = r.ReadBytes((count + 7) / 8);

        var columns = new TableColumn[count];
        for (var i = 0; i < count; i++)
        {
            var binlogType = (ColumnType)types[i];
            var realType = binlogType;
            var meta = 0;
            switch (binlogType)
            {
                case ColumnType.Float:
                case ColumnType.Double:
                case ColumnType.Blob:
                case ColumnType.TinyBlob:
                case ColumnType.MediumBlob:
                case ColumnType.LongBlob:
                case ColumnType.Json:
                case ColumnType.Geometry:
                case ColumnType.Vector:
                    meta = metaReader.ReadByte();
                    break;
                case ColumnType.Timestamp2:
                case ColumnType.DateTime2:
                case ColumnType.Time2:
                    meta = metaReader.ReadByte();
                    if (meta > 6) throw new BinlogFormatException($"{binlogType} column {i + 1} of {database}.{table} has fractional-second precision {meta} (at most 6)");
                    break;
                case ColumnType.Timestamp:
                case ColumnType.DateTime:
                case ColumnType.Time:
                    // MySQL writes no metadata here; MariaDB writes the fsp of its "hires" formats.
                    meta = 0;
                    break;
                case ColumnType.VarChar:
                case ColumnType.VarString:
                    meta = metaReader.ReadUInt16();
                    break;
                case ColumnType.NewDecimal:
                {
                    var precision = metaReader.ReadByte();
                    var scale = metaReader.ReadByte();
                    meta = precision << 8 | scale;
                    break;
                }
                case ColumnType.Bit:
                {
                    var bits = metaReader.ReadByte();
                    var bytes = metaReader.ReadByte();
                    meta = bytes << 8 | bits;
                    break;
                }
                case ColumnType.String:
                case ColumnType.Enum:
                case ColumnType.Set:
                {
                    var b0 = metaReader.ReadByte();
                    var b1 = metaReader.ReadByte();
                    if ((b0 & 0x30) != 0x30)
                    {
                        // CHAR longer than 255: two high bits of the length live in byte 0.
                        realType = (ColumnType)(b0 | 0x30);
                        meta = b1 | (((b0 & 0x30) ^ 0x30) << 4);
                    }
                    else
                    {
                        realType = (ColumnType)b0;
                        meta = b1;
                    }
                    if (realType is not (ColumnType.Enum or ColumnType.Set or ColumnType.String))
                        realType = ColumnType.String;
                    break;
                }
            }
            columns[i] = new TableColumn(i, binlogType, realType, meta, (nullBitmap[i >> 3] & (1 << (i & 7))) != 0);
        }
        var hasNames = false;
        List<int>? keyOrder = null;
        if (r.Remaining > 0) hasNames = ReadOptionalMetadata(ref r, columns, database, table, isMariaDb, out keyOrder);
        var map = new TableMapEvent(header, tableId, flags, database, table, columns, hasNames)
        {
            // MariaDB's pre-10.1 "hires" TIME/DATETIME/TIMESTAMP(1..6) use these type codes without metadata.
            HasUnknownTemporalPrecision = isMariaDb && columns.Any(c => c.Type is ColumnType.Time or ColumnType.DateTime or ColumnType.Timestamp),
        };
        if (keyOrder is { Count: > 0 }) map.PrimaryKey = keyOrder;
        return map;
    }

    private static bool ReadOptionalMetadata(ref PacketReader r, TableColumn[] columns, string db, string table, bool isMariaDb,
        out List<int>? keyOrder)
    {
        keyOrder = null;
        var hasNames = false;
        Func<TableColumn, bool> isCharacter = isMariaDb ? IsCharacterMariaDb : IsCharacter;
        // Labels are decoded once every field has been read: their charset field may come before or after them.
        List<(TableColumn Column, byte[][] Raw)>? labels = null;
        while (r.Remaining > 0)
        {
            var field = (MetadataField)r.ReadByte();
            var len = r.ReadLengthEncodedInt32();
            var f = new PacketReader(r.ReadBytes(len));
            switch (field)
            {
                case MetadataField.Signedness:
                {
                    // One bit per numeric column, most significant bit first.
                    var bits = f.ReadRemaining();
                    var bit = 0;
                    foreach (var c in columns)
                    {
                        if (!IsNumeric(c.Type) && !(isMariaDb && c.Type == ColumnType.Year)) continue;
                        if (bit >> 3 >= bits.Length)
                            throw new BinlogFormatException($"SIGNEDNESS metadata of {db}.{table} has {bits.Length} bytes, too few for its numeric columns");
                        c.IsUnsigned = (bits[bit >> 3] & (0x80 >> (bit & 7))) != 0;
                        bit++;
                    }
                    break;
                }
                case MetadataField.DefaultCharset:
                    ApplyDefaultCharset(ref f, columns, isCharacter);
                    break;
                case MetadataField.ColumnCharset:
                    foreach (var c in columns)
                        if (isCharacter(c)) c.Collation = f.ReadLengthEncodedInt32();
                    break;
                case MetadataField.EnumAndSetDefaultCharset:
                    ApplyDefaultCharset(ref f, columns, IsEnumOrSet);
                    break;
                case MetadataField.EnumAndSetColumnCharset:
                    foreach (var c in columns)
                        if (IsEnumOrSet(c)) c.Collation = f.ReadLengthEncodedInt32();
                    break;
                case MetadataField.ColumnName:
                    foreach (var c in columns) c.Name = f.ReadLengthEncodedString();
                    hasNames = true;
                    break;
                case MetadataField.SetStrValue:
                    ReadLabels(ref f, columns, ColumnType.Set, labels ??= []);
                    break;
                case MetadataField.EnumStrValue:
                    ReadLabels(ref f, columns, ColumnType.Enum, labels ??= []);
                    break;
                case MetadataField.SimplePrimaryKey:
                {
                    var order = new List<int>();
                    while (f.Remaining > 0)
                    {
                        var i = f.ReadLengthEncodedInt32();
                        if (i >= columns.Length) throw new BinlogFormatException($"primary key column {i} out of range in table map for {db}.{table}");
                        columns[i].IsPrimaryKey = true;
                        order.Add(i);
                    }
                    keyOrder = order;
                    break;
                }
                case MetadataField.PrimaryKeyWithPrefix:
                {
                    var order = new List<int>();
                    while (f.Remaining > 0)
                    {
                        var i = f.ReadLengthEncodedInt32();
                        f.ReadLengthEncoded();
                        if (i >= columns.Length) throw new BinlogFormatException($"primary key column {i} out of range in table map for {db}.{table}");
                        columns[i].IsPrimaryKey = true;
                        order.Add(i);
                    }
                    keyOrder = order;
                    break;
                }
                default:
                    break; // GEOMETRY_TYPE, COLUMN_VISIBILITY and future fields are not needed to decode values.
            }
        }
        if (labels != null)
            foreach (var (c, raw) in labels)
            {
                var encoding = Charsets.GetEncoding(c.Collation);
                c.Labels = Array.ConvertAll(raw, l => encoding.GetString(l));
            }
        return hasNames;
    }

    private static void ApplyDefaultCharset(ref PacketReader f, TableColumn[] columns, Func<TableColumn, bool> selects)
    {
        var defaultCollation = f.ReadLengthEncodedInt32();
        var selected = new List<TableColumn>();
        foreach (var c in columns)
            if (selects(c)) { c.Collation = defaultCollation; selected.Add(c); }
        while (f.Remaining > 0)
        {
            var index = f.ReadLengthEncodedInt32();
            var collation = f.ReadLengthEncodedInt32();
            if (index < selected.Count) selected[index].Collation = collation;
        }
    }

    private static void ReadLabels(ref PacketReader f, TableColumn[] columns, ColumnType type, List<(TableColumn, byte[][])> pending)
    {
        foreach (var c in columns)
        {
            if (c.Type != type) continue;
            var n = f.ReadLengthEncodedInt32();
            if (n > 65535 || n > f.Remaining) throw new BinlogFormatException($"{type} column {c} claims {n} labels in {f.Remaining} bytes");
            var labels = new byte[n][];
            for (var i = 0; i < n; i++) labels[i] = f.ReadBytes(f.ReadLengthEncodedInt32()).ToArray();
            pending.Add((c, labels));
        }
    }

    private static bool IsNumeric(ColumnType t) => t is ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long
        or ColumnType.LongLong or ColumnType.NewDecimal or ColumnType.Float or ColumnType.Double or ColumnType.Decimal;

    private static bool IsCharacter(TableColumn c) =>
        c.Type is ColumnType.String or ColumnType.VarChar or ColumnType.VarString or ColumnType.Blob;

    // MariaDB's list also holds GEOMETRY columns (a BLOB underneath, charset binary): see is_character_type in its log_event_client.cc.
    private static bool IsCharacterMariaDb(TableColumn c) => IsCharacter(c) || c.Type == ColumnType.Geometry;

    private static bool IsEnumOrSet(TableColumn c) => c.Type is ColumnType.Enum or ColumnType.Set;
}
