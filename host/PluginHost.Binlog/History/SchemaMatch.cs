using PluginHost.Binlog.Events;

namespace PluginHost.Binlog.History;

/// <summary>
/// Checks a table map against the columns the history has for its table: the same number of columns, each of a type
/// the history's type can be written as, and (when the map carries names) the same names. A disagreement means the
/// history is out of step with what the server wrote: the table becomes uncertain instead of taking wrong names.
/// </summary>
internal static class SchemaMatch
{
    /// <summary>Why <paramref name="map"/> does not fit <paramref name="schema"/>; null when it does.</summary>
    public static string? Mismatch(TableMapEvent map, TableSchema schema)
    {
        if (map.Columns.Count != schema.Columns.Count)
            return $"the table map has {map.Columns.Count} columns, the schema history {schema.Columns.Count}";
        for (var i = 0; i < map.Columns.Count; i++)
        {
            var written = map.Columns[i];
            var known = schema.Columns[i];
            if (!Fits(known.DataType, written.Type))
                return $"column {i + 1} is {written.Type} in the table map, {known.DataType} ({known.Name}) in the schema history";
            if (map.HasColumnNames && written.Name is { } name && !name.Equals(known.Name, StringComparison.OrdinalIgnoreCase))
                return $"column {i + 1} is named {name} in the table map, {known.Name} in the schema history";
        }
        return null;
    }

    /// <summary>True when a column of information_schema type <paramref name="dataType"/> can be written as <paramref name="type"/>.</summary>
    internal static bool Fits(string dataType, ColumnType type) => dataType switch
    {
        "tinyint" => type == ColumnType.Tiny,
        "smallint" => type == ColumnType.Short,
        "mediumint" => type == ColumnType.Int24,
        "int" => type == ColumnType.Long,
        "bigint" => type == ColumnType.LongLong,
        "float" => type == ColumnType.Float,
        "double" => type == ColumnType.Double,
        "decimal" => type is ColumnType.NewDecimal or ColumnType.Decimal,
        "bit" => type == ColumnType.Bit,
        "year" => type == ColumnType.Year,
        "date" => type is ColumnType.Date or ColumnType.NewDate,
        "time" => type is ColumnType.Time or ColumnType.Time2,
        "datetime" => type is ColumnType.DateTime or ColumnType.DateTime2,
        "timestamp" => type is ColumnType.Timestamp or ColumnType.Timestamp2,
        "char" or "varchar" or "binary" or "varbinary" => type is ColumnType.String or ColumnType.VarChar or ColumnType.VarString,
        "enum" => type == ColumnType.Enum,
        "set" => type == ColumnType.Set,
        "tinytext" or "text" or "mediumtext" or "longtext" or "tinyblob" or "blob" or "mediumblob" or "longblob" =>
            type is ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob,
        "json" => type is ColumnType.Json or ColumnType.Blob or ColumnType.LongBlob,
        "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon"
            or "geometrycollection" or "geomcollection" => type == ColumnType.Geometry,
        _ => true, // a type this check does not know (inet6, uuid, vector, …): the count and names still hold
    };
}
