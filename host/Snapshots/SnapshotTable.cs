using System.Globalization;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>How rows of a table are paged.</summary>
internal enum ChunkKeyKind
{
    /// <summary>No usable key: the table is read in one streamed pass.</summary>
    None,
    /// <summary>The primary key.</summary>
    PrimaryKey,
    /// <summary>A unique key whose columns are all NOT NULL (and not prefixes).</summary>
    UniqueKey,
}

/// <summary>
/// A table as the snapshot reads it: its columns in order (with what the values need to come out as the stream's), the
/// sdk <see cref="TableInfo"/> the stream builds for it, the chunk key and the estimated row count.
/// </summary>
internal sealed class SnapshotTable
{
    private SnapshotTable(string database, string table, SnapshotColumn[] columns, int[] key, ChunkKeyKind keyKind, string? keyName, long estimatedRows)
    {
        Database = database;
        Table = table;
        Columns = columns;
        ChunkKey = key;
        ChunkKeyKind = keyKind;
        ChunkKeyName = keyName;
        EstimatedRows = estimatedRows;
        Info = new TableInfo(database, table, columns.Select(c => new ColumnInfo(c.Name, c.Kind, c.IsPrimaryKey, c.FractionDigits)).ToArray());
    }

    public string Database { get; }
    public string Table { get; }

    /// <summary><c>db.table</c> as given.</summary>
    public string FullName => Database + "." + Table;

    /// <summary>The columns in their table order.</summary>
    public IReadOnlyList<SnapshotColumn> Columns { get; }

    /// <summary>The mean size of a row's values in the last chunk read (sizes the next chunk's buffer).</summary>
    internal int RowBytesHint { get; set; } = 64;

    /// <summary>The sdk table description, the same shape the stream builds (names, kinds, primary key, fraction digits).</summary>
    public TableInfo Info { get; }

    /// <summary>Indexes into <see cref="Columns"/> of the chunk key's columns, in key order; empty when there is none.</summary>
    public IReadOnlyList<int> ChunkKey { get; }

    /// <summary>Which key pages the table.</summary>
    public ChunkKeyKind ChunkKeyKind { get; }

    /// <summary>The index name of the chunk key (<c>PRIMARY</c> or the unique key's), null when there is none.</summary>
    public string? ChunkKeyName { get; }

    /// <summary>information_schema.TABLES.TABLE_ROWS when read: an estimate (InnoDB samples it), for progress only.</summary>
    public long EstimatedRows { get; }

    /// <summary>Describes <paramref name="database"/>.<paramref name="table"/> from information_schema.</summary>
    /// <exception cref="SnapshotTableNotFoundException">No such table (or the user cannot see it), or it is a view.</exception>
    public static async Task<SnapshotTable> LoadAsync(MySqlProtocolConnection connection, string database, string table, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentException.ThrowIfNullOrEmpty(table);
        string where = $"TABLE_SCHEMA = {Sql.Quote(database)} AND TABLE_NAME = {Sql.Quote(table)}";
        var tables = await connection.QueryAsync($"SELECT TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES WHERE {where}", ct).ConfigureAwait(false);
        if (tables.Rows.Count == 0)
            throw new SnapshotTableNotFoundException(database, table, $"Table '{database}.{table}' does not exist (or the user cannot see it).");
        if (tables.Rows[0][0] is "VIEW" or "SYSTEM VIEW")
            throw new SnapshotTableNotFoundException(database, table, $"'{database}.{table}' is a view; only tables can be snapshotted (the binlog carries no view rows).");
        long estimate = long.TryParse(tables.Rows[0][1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

        var columnRows = await connection.QueryAsync($"""
            SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.COLUMN_KEY, co.ID, c.DATETIME_PRECISION, c.NUMERIC_PRECISION,
                   c.IS_NULLABLE, c.CHARACTER_SET_NAME
            FROM information_schema.COLUMNS c
            LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME
            WHERE c.{where.Replace(" AND ", " AND c.", StringComparison.Ordinal)}
            ORDER BY c.ORDINAL_POSITION
            """, ct).ConfigureAwait(false);
        if (columnRows.Rows.Count == 0)
            throw new SnapshotTableNotFoundException(database, table, $"Table '{database}.{table}' has no columns the user can see.");
        var json = connection.IsMariaDb ? await MariaDbJsonColumnsAsync(connection, where, ct).ConfigureAwait(false) : null;
        var columns = columnRows.Rows.Select(r => Column(r, json)).ToArray();
        var (key, kind, keyName) = await ChunkKeyAsync(connection, where, columns, ct).ConfigureAwait(false);
        return new SnapshotTable(database, table, columns, key, kind, keyName, estimate);
    }

    private static SnapshotColumn Column(IReadOnlyList<string?> r, HashSet<string>? jsonColumns)
    {
        var name = r[0] ?? "";
        var dataType = (r[1] ?? "").ToLowerInvariant();
        var columnType = r[2] ?? "";
        var collation = int.TryParse(r[4], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : Binlog.Values.Charsets.Binary;
        var fsp = dataType is "time" or "datetime" or "timestamp" && int.TryParse(r[5], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
        var precision = dataType is "decimal" or "numeric" && int.TryParse(r[6], NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : 0;
        var textBlob = dataType is "tinytext" or "text" or "mediumtext" or "longtext" && collation != Binlog.Values.Charsets.Binary;
        var isJson = dataType == "json" || textBlob && jsonColumns?.Contains(name) == true;
        string[]? labels = dataType is "enum" or "set" ? InformationSchemaText.ParseLabels(columnType) : null;
        return new SnapshotColumn(name, dataType, isJson ? ColumnKind.Json : KindOf(dataType, collation), columnType.Contains("unsigned", StringComparison.OrdinalIgnoreCase),
            collation, r[8], precision, fsp, labels, r[3] == "PRI", r[7] == "YES");
    }

    /// <summary>The kind the stream gives a column of this type (ChangeEventFactory.KindOf, from the type name).</summary>
    internal static ColumnKind KindOf(string dataType, int collation) => dataType switch
    {
        "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" => ColumnKind.Integer,
        "decimal" or "numeric" => ColumnKind.Decimal,
        "float" => ColumnKind.Float,
        "double" or "real" or "double precision" => ColumnKind.Double,
        "char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext" =>
            collation == Binlog.Values.Charsets.Binary ? ColumnKind.Binary : ColumnKind.Text,
        "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" => ColumnKind.Binary,
        "date" => ColumnKind.Date,
        "datetime" => ColumnKind.DateTime,
        "timestamp" => ColumnKind.Timestamp,
        "time" => ColumnKind.Time,
        "year" => ColumnKind.Year,
        "bit" => ColumnKind.Bit,
        "enum" => ColumnKind.Enum,
        "set" => ColumnKind.Set,
        "json" => ColumnKind.Json,
        "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon"
            or "geometrycollection" or "geomcollection" => ColumnKind.Geometry,
        _ => ColumnKind.Unknown,
    };

    /// <summary>MariaDB's JSON columns: LONGTEXT with a <c>json_valid(`col`)</c> check, as the stream learns them.</summary>
    private static async Task<HashSet<string>> MariaDbJsonColumnsAsync(MySqlProtocolConnection connection, string where, CancellationToken ct)
    {
        var result = await connection.QueryAsync($"""
            SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
            WHERE {where.Replace("TABLE_SCHEMA", "CONSTRAINT_SCHEMA", StringComparison.Ordinal)} AND CHECK_CLAUSE LIKE 'json\_valid(%'
            """, ct).ConfigureAwait(false);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in result.Rows)
            if (InformationSchemaText.JsonValidColumn(row[0]) is { } name) names.Add(name);
        return names;
    }

    /// <summary>The primary key; else the unique BTREE key with the fewest columns, all NOT NULL and none a prefix; else none.</summary>
    private static async Task<(int[] Key, ChunkKeyKind Kind, string? Name)> ChunkKeyAsync(
        MySqlProtocolConnection connection, string where, SnapshotColumn[] columns, CancellationToken ct)
    {
        var result = await connection.QueryAsync($"""
            SELECT INDEX_NAME, COLUMN_NAME, SUB_PART, INDEX_TYPE FROM information_schema.STATISTICS
            WHERE {where} AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX
            """, ct).ConfigureAwait(false);
        var keys = new Dictionary<string, (List<int> Columns, bool Usable)>(StringComparer.Ordinal);
        foreach (var r in result.Rows)
        {
            var name = r[0] ?? "";
            if (!keys.TryGetValue(name, out var k)) keys[name] = k = (new List<int>(), true);
            var index = Array.FindIndex(columns, c => string.Equals(c.Name, r[1], StringComparison.OrdinalIgnoreCase));
            var usable = k.Usable && index >= 0 && r[2] is null && r[3] is "BTREE" && !columns[index].IsNullable && Keyable(columns[index].Kind);
            k.Columns.Add(index);
            keys[name] = (k.Columns, usable);
        }
        if (keys.TryGetValue("PRIMARY", out var pk) && pk.Usable) return (pk.Columns.ToArray(), ChunkKeyKind.PrimaryKey, "PRIMARY");
        var best = keys.Where(k => k.Key != "PRIMARY" && k.Value.Usable).OrderBy(k => k.Value.Columns.Count).ThenBy(k => k.Key, StringComparer.Ordinal).FirstOrDefault();
        return best.Key is null ? ([], ChunkKeyKind.None, null) : (best.Value.Columns.ToArray(), ChunkKeyKind.UniqueKey, best.Key);
    }

    /// <summary>Kinds whose text value can be quoted back exactly as a key bound.</summary>
    private static bool Keyable(ColumnKind kind) => kind is not (ColumnKind.Json or ColumnKind.Geometry or ColumnKind.Unknown or ColumnKind.Float or ColumnKind.Double);
}
