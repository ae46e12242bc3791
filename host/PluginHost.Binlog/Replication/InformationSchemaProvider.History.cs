using PluginHost.Binlog.Ddl;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.History;

namespace PluginHost.Binlog.Replication;

/// <summary>Whole tables for the schema history: every table the pipeline takes at its start, or a few tables again when caught up.</summary>
internal sealed partial class InformationSchemaProvider
{
    /// <summary>
    /// The columns of every base table <paramref name="takes"/> accepts (or of <paramref name="only"/>), with their default
    /// collations and JSON columns, and the default collation of every database. Uncached: this is the server as it is now.
    /// </summary>
    public async Task<(List<TableSchema> Tables, Dictionary<string, int> Databases)> DescribeTablesAsync(
        Func<string, string, bool> takes, IReadOnlyCollection<TableName>? only, bool mariaDb, CancellationToken ct)
    {
        var connection = await ConnectionAsync(ct).ConfigureAwait(false);
        var where = only is null
            ? "c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
            : only.Count == 0 ? "FALSE" : string.Join(" OR ", only.Select(t => $"(c.TABLE_SCHEMA = {Sql.Quote(t.Database)} AND c.TABLE_NAME = {Sql.Quote(t.Table)})"));
        Queries++;
        var result = await connection.QueryAsync($"""
            SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.COLUMN_KEY, co.ID, c.DATETIME_PRECISION, c.CHARACTER_SET_NAME,
                   c.TABLE_SCHEMA, c.TABLE_NAME, t.TABLE_COLLATION
            FROM information_schema.COLUMNS c
            JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE NOT IN ('VIEW', 'SYSTEM VIEW')
            LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME
            WHERE {where}
            ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION
            """, ct).ConfigureAwait(false);
        var json = mariaDb ? await JsonColumnsAsync(connection, ct).ConfigureAwait(false) : [];
        var tables = new List<TableSchema>();
        var columns = new List<SchemaColumn>();
        var key = new List<int>();
        for (var i = 0; i < result.Rows.Count; i++)
        {
            var r = result.Rows[i];
            string database = r[7] ?? "", table = r[8] ?? "";
            if (!takes(database, table) && only is null) continue;
            var column = ColumnOf(r, 0);
            if (json.Contains((database, table, column.Name.ToLowerInvariant()))) column = column with { IsJson = true };
            if (r[3] == "PRI") key.Add(columns.Count);
            columns.Add(column);
            if (i + 1 < result.Rows.Count && result.Rows[i + 1][7] == database && result.Rows[i + 1][8] == table) continue;
            tables.Add(new TableSchema(database, table, columns.ToArray(), key.ToArray(), CollationNames.Resolve(null, r[9]?.ToLowerInvariant()) ?? 0));
            columns.Clear();
            key.Clear();
        }
        Queries++;
        var schemata = await connection.QueryAsync("SELECT SCHEMA_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA", ct).ConfigureAwait(false);
        var databases = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in schemata.Rows)
            if (row[0] is { } name && CollationNames.Resolve(null, row[1]?.ToLowerInvariant()) is { } id)
                databases[name] = id;
        return (tables, databases);
    }

    /// <summary>(database, table, lower-case column) of every MariaDB JSON column: a <c>json_valid(`col`)</c> check.</summary>
    private async Task<HashSet<(string, string, string)>> JsonColumnsAsync(Protocol.MySqlProtocolConnection connection, CancellationToken ct)
    {
        Queries++;
        var result = await connection.QueryAsync("""
            SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
            WHERE CHECK_CLAUSE LIKE 'json\_valid(%'
            """, ct).ConfigureAwait(false);
        var set = new HashSet<(string, string, string)>();
        foreach (var row in result.Rows)
            if (InformationSchemaText.JsonValidColumn(row[2]) is { } column)
                set.Add((row[0] ?? "", row[1] ?? "", column.ToLowerInvariant()));
        return set;
    }

    /// <summary>The server's binlog position now (file, offset).</summary>
    public async Task<(string File, long Position)> CurrentPositionAsync(CancellationToken ct)
    {
        var connection = await ConnectionAsync(ct).ConfigureAwait(false);
        return await ServerChecks.CurrentPositionAsync(connection, ct).ConfigureAwait(false);
    }
}
