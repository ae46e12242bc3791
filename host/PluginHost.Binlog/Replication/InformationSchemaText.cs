namespace PluginHost.Binlog.Replication;

/// <summary>Texts of <c>information_schema</c> the client reads: ENUM/SET labels of a COLUMN_TYPE, the column of a JSON check.</summary>
public static class InformationSchemaText
{
    /// <summary>Parses <c>enum('a','b''c')</c> into its labels.</summary>
    public static string[] ParseLabels(string columnType)
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

    /// <summary>The column of a check clause that is exactly <c>json_valid(`col`)</c> (backticks doubled inside the
    /// name), or null for any other clause.</summary>
    public static string? JsonValidColumn(string? clause)
    {
        const string Prefix = "json_valid(`";
        if (clause is null) return null;
        clause = clause.Trim();
        if (!clause.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || !clause.EndsWith("`)", StringComparison.Ordinal)) return null;
        var quoted = clause[Prefix.Length..^2];
        if (quoted.Length == 0) return null;
        var sb = new System.Text.StringBuilder(quoted.Length);
        for (var i = 0; i < quoted.Length; i++)
        {
            if (quoted[i] == '`')
            {
                // Inside the name a backtick is doubled; a single one means the clause has more than one identifier.
                if (i + 1 >= quoted.Length || quoted[i + 1] != '`') return null;
                i++;
            }
            sb.Append(quoted[i]);
        }
        return sb.ToString();
    }
}
