namespace PluginHost.Binlog.Protocol;

/// <summary>Flags of a result-set column definition (ColumnDefinition41).</summary>
[Flags]
public enum ColumnFlags : ushort
{
    None = 0,
    NotNull = 1,
    PrimaryKey = 2,
    UniqueKey = 4,
    MultipleKey = 8,
    Blob = 16,
    Unsigned = 32,
    ZeroFill = 64,
    /// <summary>Binary data or a binary collation.</summary>
    Binary = 128,
    Enum = 256,
    AutoIncrement = 512,
    Timestamp = 1024,
    Set = 2048,
}
