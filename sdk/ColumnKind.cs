namespace PluginHost.Sdk;

/// <summary>The SQL type family of a column, which decides the .NET type of its values in a <see cref="Row"/>.</summary>
public enum ColumnKind
{
    /// <summary>Type not known (e.g. a column added by a transform).</summary>
    Unknown,
    /// <summary>TINYINT…BIGINT: <see cref="long"/>, or <see cref="ulong"/> when unsigned.</summary>
    Integer,
    /// <summary>DECIMAL: <see cref="decimal"/> (precision ≤ 28) or a string of its digits.</summary>
    Decimal,
    /// <summary>FLOAT: <see cref="float"/>.</summary>
    Float,
    /// <summary>DOUBLE: <see cref="double"/>.</summary>
    Double,
    /// <summary>CHAR, VARCHAR, TEXT: <see cref="string"/>.</summary>
    Text,
    /// <summary>BINARY, VARBINARY, BLOB: <see cref="byte"/>[].</summary>
    Binary,
    /// <summary>DATE: <see cref="DateOnly"/>, or a string for zero dates.</summary>
    Date,
    /// <summary>DATETIME: <see cref="DateTime"/> (unspecified kind), or a string for zero dates.</summary>
    DateTime,
    /// <summary>TIMESTAMP: <see cref="DateTimeOffset"/> in UTC, or a string for the zero timestamp.</summary>
    Timestamp,
    /// <summary>TIME: <see cref="TimeSpan"/> (may be negative or beyond 24 h).</summary>
    Time,
    /// <summary>YEAR: <see cref="long"/>.</summary>
    Year,
    /// <summary>BIT: <see cref="ulong"/>.</summary>
    Bit,
    /// <summary>ENUM: its label, <see cref="string"/>.</summary>
    Enum,
    /// <summary>SET: its labels, <see cref="string"/>[].</summary>
    Set,
    /// <summary>JSON (MySQL's, and MariaDB's where the live client learned the column is JSON): a
    /// <see cref="System.Text.Json.Nodes.JsonNode"/> (null for JSON null); a <see cref="string"/> in the rare case of
    /// MariaDB text that is not valid JSON.</summary>
    Json,
    /// <summary>GEOMETRY: SRID + WKB bytes, <see cref="byte"/>[].</summary>
    Geometry,
}
