using System.Text;

namespace PluginHost.Snapshots;

/// <summary>
/// The two information_schema texts the stream parses too (the binlog library's own parser is internal to it; the tests
/// check that both agree): ENUM/SET labels of a COLUMN_TYPE and the column of a <c>json_valid(`col`)</c> check.
/// </summary>
internal static class InformationSchemaLabels
{
    /// <summary>Parses <c>enum('a','b''c')</c> into its labels.</summary>
    public static string[] Parse(string columnType)
    {
        var labels = new List<string>();
        var i = columnType.IndexOf('(') + 1;
        while (i > 0 && i < columnType.Length)
        {
            if (columnType[i] != '\'') { i++; continue; }
            var sb = new StringBuilder();
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

    /// <summary>The column of a check clause that is exactly <c>json_valid(`col`)</c>, or null.</summary>
    public static string? JsonValidColumn(string? clause)
    {
        const string Prefix = "json_valid(`";
        if (clause is null) return null;
        clause = clause.Trim();
        if (!clause.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || !clause.EndsWith("`)", StringComparison.Ordinal)) return null;
        var quoted = clause[Prefix.Length..^2];
        if (quoted.Length == 0) return null;
        var sb = new StringBuilder(quoted.Length);
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] == '`')
            {
                if (i + 1 >= quoted.Length || quoted[i + 1] != '`') return null;
                i++;
            }
            sb.Append(quoted[i]);
        }
        return sb.ToString();
    }
}
