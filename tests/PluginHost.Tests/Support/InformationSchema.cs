using PluginHost.Binlog.Events;

namespace PluginHost.Tests.Support;

/// <summary>Builds <see cref="TableSchema"/>s from the server's information_schema (through the mariadb CLI), the way a
/// schema-aware consumer fills in table maps that carry no (or not enough) metadata.</summary>
public static class InformationSchema
{
    public static Dictionary<string, TableSchema> Load(MariaDbServer db, string database)
    {
        var text = db.Sql($"""
            SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, IFNULL(co.ID, 63),
                   IFNULL(c.DATETIME_PRECISION, 0), c.COLUMN_KEY
            FROM information_schema.COLUMNS c
            LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME
            WHERE c.TABLE_SCHEMA = '{database}'
            ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION;
            """);
        var result = new Dictionary<string, TableSchema>();
        foreach (var group in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).GroupBy(f => f[0]))
        {
            var columns = new List<SchemaColumn>();
            var key = new List<int>();
            foreach (var f in group)
            {
                var columnType = f[3];
                string[]? labels = f[2] is "enum" or "set" ? ParseLabels(columnType) : null;
                if (f[6] == "PRI") key.Add(columns.Count);
                columns.Add(new SchemaColumn(f[1], f[2], columnType.Contains("unsigned"), int.Parse(f[4]), labels,
                    f[2] is "time" or "datetime" or "timestamp" ? int.Parse(f[5]) : 0));
            }
            result[group.Key] = new TableSchema(database, group.Key, columns, key);
        }
        return result;
    }

    /// <summary>Labels of <c>enum('a','b')</c> / <c>set(...)</c> (quotes doubled inside labels).</summary>
    public static string[] ParseLabels(string columnType)
    {
        var labels = new List<string>();
        var i = columnType.IndexOf('(') + 1;
        while (i < columnType.Length && columnType[i] == '\'')
        {
            var sb = new System.Text.StringBuilder();
            i++;
            while (true)
            {
                if (columnType[i] == '\'' && i + 1 < columnType.Length && columnType[i + 1] == '\'') { sb.Append('\''); i += 2; continue; }
                if (columnType[i] == '\'') { i++; break; }
                sb.Append(columnType[i++]);
            }
            labels.Add(sb.ToString());
            if (i < columnType.Length && columnType[i] == ',') i++;
        }
        return labels.ToArray();
    }
}
