namespace PluginHost.Binlog.Events;

/// <summary>TABLE_MAP_EVENT: binds a table id to a table's name and column layout for the row events that follow.</summary>
public sealed class TableMapEvent : BinlogEvent
{
    internal TableMapEvent(BinlogEventHeader header, ulong tableId, ushort flags, string database, string table,
        TableColumn[] columns, bool hasNames) : base(header)
    {
        TableId = tableId;
        Flags = flags;
        Database = database;
        Table = table;
        Columns = ColumnArray = columns;
        HasColumnNames = hasNames;
    }

    public ulong TableId { get; }
    public ushort Flags { get; }
    public string Database { get; }
    public string Table { get; }
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>The same columns as an array, for the row decoder's loop (no interface dispatch per column).</summary>
    internal TableColumn[] ColumnArray { get; }

    /// <summary>True when the map itself carried column names (binlog_row_metadata=FULL).</summary>
    public bool HasColumnNames { get; }

    /// <summary>
    /// True when the map alone cannot decode every value right and the schema should be applied
    /// (<see cref="ApplySchema"/>, or the decoder's <c>OnTableMapWithoutMetadata</c> hook): it carries no column names
    /// (binlog_row_metadata=MINIMAL or NO_LOG, so no signedness, charsets or labels either), or it is MariaDB's and has
    /// TIME/DATETIME/TIMESTAMP columns of the pre-MySQL-5.6 type codes, which may be MariaDB's "hires" formats whose
    /// fractional-second precision the map does not carry (tables created before MariaDB 10.1 or with
    /// mysql56_temporal_format=OFF).
    /// </summary>
    public bool NeedsSchema => !HasColumnNames || HasUnknownTemporalPrecision;

    /// <summary>MariaDB map with old-style temporal columns whose precision only the schema knows.</summary>
    public bool HasUnknownTemporalPrecision { get; internal init; }

    /// <summary>True when every column has a name (from metadata or applied from the schema).</summary>
    public bool IsNamed => Columns.All(c => c.Name != null);

    /// <summary>Indexes of the primary key columns, in key order, when known.</summary>
    public IReadOnlyList<int> PrimaryKey { get; internal set; } = [];

    /// <summary>Fills in names, signedness, charsets, labels and key from a schema source for a map without metadata.</summary>
    public void ApplySchema(TableSchema schema)
    {
        for (var i = 0; i < Columns.Count && i < schema.Columns.Count; i++)
        {
            var c = Columns[i];
            var s = schema.Columns[i];
            c.Name ??= s.Name;
            // MariaDB "hires" TIME/DATETIME/TIMESTAMP(1..6): the fsp decides the stored size (MySQL never has fsp > 0 here).
            if (c.Type is ColumnType.Time or ColumnType.DateTime or ColumnType.Timestamp && c.Metadata == 0 && s.FractionalDigits is > 0 and <= 6)
                c.Metadata = s.FractionalDigits;
            if (!HasColumnNames)
            {
                c.IsUnsigned = s.IsUnsigned;
                if (c.Collation == 0) c.Collation = s.Collation;
                c.Labels ??= s.Labels;
            }
        }
        if (PrimaryKey.Count == 0 && schema.PrimaryKey.Count > 0)
        {
            PrimaryKey = schema.PrimaryKey;
            foreach (var i in schema.PrimaryKey)
                if (i < Columns.Count) ((TableColumn)Columns[i]).IsPrimaryKey = true;
        }
    }

    /// <summary>True when a column could be MariaDB text JSON (a BLOB/TEXT column in a character set), so that
    /// <see cref="ApplyJsonColumns"/> is worth asking the schema for.</summary>
    public bool MayHaveJsonText => Columns.Any(c => c.IsTextBlob);

    /// <summary>
    /// Marks the named columns as MariaDB JSON (<see cref="TableColumn.IsJson"/>): their values then decode as JSON
    /// text and are embedded in the event JSON. Only named BLOB/TEXT columns in a character set can be marked; other
    /// names are ignored. Apply after <see cref="ApplySchema"/> when the map carries no names.
    /// </summary>
    public void ApplyJsonColumns(IReadOnlySet<string> jsonColumns)
    {
        if (jsonColumns.Count == 0) return;
        foreach (var c in Columns)
            if (c.Name != null && c.IsTextBlob && jsonColumns.Contains(c.Name)) c.IsJson = true;
    }

    /// <summary><c>database.table</c>.</summary>
    public string FullName => $"{Database}.{Table}";
}
