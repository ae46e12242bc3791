using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;

namespace PluginHost.Binlog.Replication;

/// <summary>
/// Column names, signedness, charsets, ENUM/SET labels and primary keys from information_schema, for table maps
/// written without metadata (binlog_row_metadata=MINIMAL, older servers). Cached per table; the cache is dropped
/// after any DDL. It describes the table as it is now, so a map older than a later ALTER may not match: then the
/// columns keep positional names.
/// </summary>
internal sealed class InformationSchemaProvider(ConnectionOptions options) : IAsyncDisposable
{
    private readonly Dictionary<string, TableSchema?> _cache = new(StringComparer.Ordinal);
    private MySqlProtocolConnection? _connection;

    public void Invalidate() => _cache.Clear();

    public async Task<TableSchema?> GetAsync(string database, string table, CancellationToken ct)
    {
        var key = database + "\0" + table;
        if (_cache.TryGetValue(key, out var cached)) return cached;
        if (_connection is not { IsUsable: true })
        {
            if (_connection != null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = await MySqlProtocolConnection.OpenAsync(options, ct).ConfigureAwait(false);
        }
        var result = await _connection.QueryAsync($"""
            SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.COLUMN_KEY, co.ID, c.DATETIME_PRECISION
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
                var dataType = (r[1] ?? "").ToLowerInvariant();
                var columnType = r[2] ?? "";
                var collation = int.TryParse(r[4], out var id) ? id : 63;
                string[]? labels = dataType is "enum" or "set" ? ParseLabels(columnType) : null;
                var fsp = dataType is "time" or "datetime" or "timestamp" && int.TryParse(r[5], out var p) ? p : 0;
                columns.Add(new SchemaColumn(r[0] ?? "", dataType, columnType.Contains("unsigned", StringComparison.OrdinalIgnoreCase), collation, labels, fsp));
                if (r[3] == "PRI") primaryKey.Add(i);
            }
            schema = new TableSchema(database, table, columns, primaryKey);
        }
        _cache[key] = schema;
        return schema;
    }

    /// <summary>Parses <c>enum('a','b''c')</c> into its labels.</summary>
    internal static string[] ParseLabels(string columnType)
    {
        var labels = new List<string>();
        var open = columnType.IndexOf('(');
        var i = open + 1;
        while (i > 0 && i < columnType.Length)
        {
            if (columnType[i] != '\'') { i++; continue; }
            var sb = new System.Text.StringBuilder();
            i++;
            while (i < columnType.Length)
            {
                if (columnType[i] == '\'' && i + 1 < columnType.Length && columnType[i + 1] == '\'') { sb.Append('\''); i += 2; continue; }
                if (columnType[i] == '\\' && i + 1 < columnType.Length) { sb.Append(columnType[i + 1]); i += 2; continue; }
                if (columnType[i] == '\'') { i++; break; }
                sb.Append(columnType[i++]);
            }
            labels.Add(sb.ToString());
        }
        return labels.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection != null) await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
