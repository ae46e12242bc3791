namespace PluginHost.Binlog.Values;

/// <summary>
/// What a decoded <see cref="ColumnValue"/> holds: its representation (missing or null, signed or unsigned, text or
/// bytes), not the column's type for consumers. Not the sdk's <c>ColumnKind</c> on purpose: this library references
/// nothing of ours; the host maps values to the sdk in one place (<c>ChangeEventFactory</c>).
/// </summary>
public enum ValueKind : byte
{
    /// <summary>The column is not part of this row image (MINIMAL/NOBLOB images).</summary>
    Missing = 0,
    Null,
    /// <summary>Signed integer (TINYINT … BIGINT).</summary>
    Int,
    /// <summary>Unsigned integer (TINYINT … BIGINT UNSIGNED).</summary>
    UInt,
    Float,
    Double,
    /// <summary>DECIMAL / NUMERIC, exact digits.</summary>
    Decimal,
    /// <summary>Character data (CHAR, VARCHAR, TEXT) in its column charset.</summary>
    String,
    /// <summary>Binary data (BINARY, VARBINARY, BLOB, or text of charset binary).</summary>
    Bytes,
    Date,
    Time,
    DateTime,
    /// <summary>TIMESTAMP: seconds + microseconds since the Unix epoch, UTC.</summary>
    Timestamp,
    Year,
    Bit,
    Enum,
    Set,
    /// <summary>JSON: MySQL binary JSON, decoded to JSON text on access; or MariaDB text JSON (a text column the schema
    /// says is JSON, see <see cref="ColumnValue.IsJsonText"/>).</summary>
    Json,
    /// <summary>GEOMETRY: the stored bytes (4-byte SRID + WKB).</summary>
    Geometry,
}
