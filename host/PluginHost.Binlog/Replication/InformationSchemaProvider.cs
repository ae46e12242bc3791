using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Replication;

/// <summary>
/// Column names, signedness, charsets, ENUM/SET labels and primary keys from information_schema, for table maps
/// written without metadata (binlog_row_metadata=MINIMAL, older servers); and which columns of a MariaDB table are
/// JSON, which no table map says (<see cref="GetJsonColumnsAsync"/>). Cached per table; the cache is dropped
/// after any DDL. It describes the table as it is now, so a map older than a later ALTER may not match: then the
/// columns keep positional names.
/// </summary>
internal sealed partial class InformationSchemaProvider(ConnectionOptions options) : IAsyncDisposable
{
    private static readonly IReadOnlySet<string> NoColumns = new HashSet<string>();

    private readonly Dictionary<(string Database, string Table), TableSchema?> _cache = new();
    private readonly Dictionary<(string Database, string Table), IReadOnlySet<string>> _jsonCache = new();
    private MySqlProtocolConnection? _connection;

    /// <summary>Queries run against information_schema so far (each table once until the next schema change).</summary>
    public int Queries { get; private set; }

    public void Invalidate()
    {
        _cache.Clear();
        _jsonCache.Clear();
    }

    private async Task<MySqlProtocolConnection> ConnectionAsync(CancellationToken ct)
    {
        if (_connection is not { IsUsable: true })
        {
            if (_connection != null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = await MySqlProtocolConnection.OpenAsync(options, ct).ConfigureAwait(false);
        }
        return _connection;
    }

    /// <summary>
    /// The names of a MariaDB table's JSON columns: MariaDB's JSON type is LONGTEXT with a <c>json_valid(`col`)</c>
    /// check constraint, which only information_schema.CHECK_CONSTRAINTS shows (COLUMNS says longtext). One query per
    /// table, cached like the schema and dropped with it after DDL.
    /// </summary>
    public ValueTask<IReadOnlySet<string>> GetJsonColumnsAsync(string database, string table, CancellationToken ct) =>
        _jsonCache.TryGetValue((database, table), out var cached) ? new(cached) : new(QueryJsonColumnsAsync(database, table, ct));

    private async Task<IReadOnlySet<string>> QueryJsonColumnsAsync(string database, string table, CancellationToken ct)
    {
        var key = (database, table);
        var connection = await ConnectionAsync(ct).ConfigureAwait(false);
        Queries++;
        var result = await connection.QueryAsync($"""
            SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
            WHERE CONSTRAINT_SCHEMA = {Sql.Quote(database)} AND TABLE_NAME = {Sql.Quote(table)}
              AND CHECK_CLAUSE LIKE 'json\_valid(%'
            """, ct).ConfigureAwait(false);
        HashSet<string>? names = null;
        foreach (var row in result.Rows)
            if (InformationSchemaText.JsonValidColumn(row[0]) is { } name)
                (names ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name);
        IReadOnlySet<string> set = names ?? NoColumns;
        _jsonCache[key] = set;
        return set;
    }

    public ValueTask<TableSchema?> GetAsync(string database, string table, CancellationToken ct) =>
        _cache.TryGetValue((database, table), out var cached) ? new(cached) : new(QuerySchemaAsync(database, table, ct));

    private async Task<TableSchema?> QuerySchemaAsync(string database, string table, CancellationToken ct)
    {
        var key = (database, table);
        var connection = await ConnectionAsync(ct).ConfigureAwait(false);
        Queries++;
        var result = await connection.QueryAsync($"""
            SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.COLUMN_KEY, co.ID, c.DATETIME_PRECISION, c.CHARACTER_SET_NAME
            FROM information_schema.COLUMNS c
            LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME
            WHERE c.TABLE_SCHEMA = {Sql.Quote(database)} AND c.TABLE_NAME = {Sql.Quote(table)}
            ORDER BY c.ORDINAL_POSITION
            """, ct).ConfigureAwait(false);
        TableSchema? schema = null;
        if (result.Rows.Count > 0)
        {
            var columns = new List<SchemaColumn>();
            var primaryKey = new List<int>();
            for (var i = 0; i < result.Rows.Count; i++)
            {
                var r = result.Rows[i];
                columns.Add(ColumnOf(r, 0));
                if (r[3] == "PRI") primaryKey.Add(i);
            }
            schema = new TableSchema(database, table, columns, primaryKey);
        }
        _cache[key] = schema;
        return schema;
    }

    /// <summary>
    /// A column from a row of <c>COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLUMN_KEY, collation ID, DATETIME_PRECISION,
    /// CHARACTER_SET_NAME</c> starting at <paramref name="at"/>.
    /// </summary>
    private static SchemaColumn ColumnOf(IReadOnlyList<string?> r, int at)
    {
        var dataType = (r[at + 1] ?? "").ToLowerInvariant();
        var columnType = r[at + 2] ?? "";
        // MariaDB 10.10+ lists its UCA-14 collations (utf8mb4_uca1400_ai_ci, ...) in COLLATIONS without an id: the
        // character set's default collation stands for them (only the character set matters to decoding).
        var collation = int.TryParse(r[at + 4], out var id) ? id
            : r[at + 6] is { Length: > 0 } charset && Charsets.GetDefaultCollationId(charset) is { } byCharset ? byCharset : 63;
        string[]? labels = dataType is "enum" or "set" ? InformationSchemaText.ParseLabels(columnType) : null;
        var fsp = dataType is "time" or "datetime" or "timestamp" && int.TryParse(r[at + 5], out var p) ? p : 0;
        return new SchemaColumn(r[at] ?? "", dataType, columnType.Contains("unsigned", StringComparison.OrdinalIgnoreCase), collation, labels, fsp,
            IsJson: dataType == "json");
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection != null) await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
