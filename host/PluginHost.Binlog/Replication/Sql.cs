using System.Text;

namespace PluginHost.Binlog.Replication;

/// <summary>Quoting for the few statements the client builds.</summary>
public static class Sql
{
    /// <summary>A single-quoted string literal with quotes and backslashes escaped.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '\'': sb.Append("''"); break;
                case '\\': sb.Append("\\\\"); break;
                case '\0': sb.Append("\\0"); break;
                default: sb.Append(ch); break;
            }
        }
        return sb.Append('\'').ToString();
    }
}
