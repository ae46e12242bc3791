namespace PluginHost.Binlog.Events;

/// <summary>One column of a table as described by a TABLE_MAP event (and, when it lacks metadata, by the schema).</summary>
public sealed class TableColumn
{
    internal TableColumn(int index, ColumnType binlogType, ColumnType type, int metadata, bool nullable)
    {
        Index = index;
        BinlogType = binlogType;
        Type = type;
        Metadata = metadata;
        IsNullable = nullable;
    }

    /// <summary>Zero-based ordinal position.</summary>
    public int Index { get; }

    /// <summary>Column name, when known (table-map metadata or information_schema).</summary>
    public string? Name { get; internal set; }

    /// <summary>The type code written in the table map.</summary>
    public ColumnType BinlogType { get; }

    /// <summary>The real type (ENUM, SET or STRING for columns written as STRING).</summary>
    public ColumnType Type { get; }

    /// <summary>Type metadata from the table map (length, precision/scale, fsp…), already unpacked for STRING columns;
    /// for MariaDB's "hires" TIME/DATETIME/TIMESTAMP the fsp, once applied from the schema.</summary>
    public int Metadata { get; internal set; }

    public bool IsNullable { get; }

    /// <summary>Integer/decimal/float column declared UNSIGNED (known only with metadata or schema).</summary>
    public bool IsUnsigned { get; internal set; }

    /// <summary>Collation id for character, ENUM and SET columns; 0 when unknown.</summary>
    public int Collation { get; internal set; }

    /// <summary>ENUM or SET labels, when known.</summary>
    public string[]? Labels { get; internal set; }

    /// <summary>A MariaDB JSON column: LONGTEXT (or another text type) with a <c>json_valid(col)</c> check constraint,
    /// which the table map cannot tell from plain text. Known only from the schema (the live client reads it from
    /// information_schema); its values then decode as <see cref="Values.ValueKind.Json"/> text, not strings.</summary>
    public bool IsJson { get; internal set; }

    /// <summary>Part of the primary key.</summary>
    public bool IsPrimaryKey { get; internal set; }

    /// <summary>A character column whose table map had no charset: decoded as UTF-8.</summary>
    /// <summary>A BLOB/TEXT column in a character set (not binary): the only kind MariaDB's JSON can be.</summary>
    internal bool IsTextBlob => Type is ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob
                                && Collation != 0 && Collation != Values.Charsets.Binary;

    internal bool IsTextByDefault => Type is ColumnType.VarChar or ColumnType.VarString or ColumnType.String;

    /// <inheritdoc />
    public override string ToString() => $"{Name ?? "@" + (Index + 1)} {Type}({Metadata})";
}
