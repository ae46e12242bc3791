using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>One column of a table to snapshot, with what turning its text value into the stream's sdk value needs.</summary>
/// <param name="Name">Column name.</param>
/// <param name="DataType">information_schema DATA_TYPE, lower case (<c>int</c>, <c>varchar</c>, <c>json</c> …).</param>
/// <param name="Kind">The sdk kind, as the stream gives it for this column.</param>
/// <param name="IsUnsigned">An UNSIGNED integer (values are <see cref="ulong"/>).</param>
/// <param name="Collation">Collation id of character, ENUM and SET columns; 63 (binary) otherwise.</param>
/// <param name="CharacterSet">Character set name (<c>utf8mb4</c>, <c>latin1</c> …), null for binary and non-text columns.</param>
/// <param name="Precision">DECIMAL precision (digits); 0 for other types.</param>
/// <param name="FractionDigits">Fractional-second digits of DATETIME, TIMESTAMP and TIME.</param>
/// <param name="Labels">ENUM or SET labels in definition order; null for other types.</param>
/// <param name="IsPrimaryKey">Part of the primary key, as the stream marks it (information_schema COLUMN_KEY = PRI).</param>
/// <param name="IsNullable">The column accepts NULL.</param>
internal sealed record SnapshotColumn(
    string Name, string DataType, ColumnKind Kind, bool IsUnsigned, int Collation, string? CharacterSet, int Precision,
    int FractionDigits, string[]? Labels, bool IsPrimaryKey, bool IsNullable)
{
    /// <summary>A FLOAT column: read as <c>CAST(… AS DOUBLE)</c>, whose text keeps every bit of the stored value (FLOAT's
    /// own text has six significant digits and does not round-trip).</summary>
    public bool IsFloat => Kind == ColumnKind.Float;
}
