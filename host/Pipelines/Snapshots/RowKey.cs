using System.Globalization;
using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// The chunk key of a row as one string, built the same way from a binlog image and a snapshot row (their values are
/// the same .NET objects), so a change seen in the stream can be matched with a row a chunk read.
/// </summary>
internal static class RowKey
{
    /// <summary>The key text, or null when the row lacks a key column (a MINIMAL image without it).</summary>
    public static string? Of(Row? row, IReadOnlyList<string> columns)
    {
        if (row is null) return null;
        var text = new StringBuilder(32);
        foreach (var column in columns)
        {
            if (!row.TryGetValue(column, out var value)) return null;
            text.Append('\u001f');
            Append(text, value);
        }
        return text.ToString();
    }

    /// <summary>The key text of the key columns' values, in key order (a snapshot row not made into an event).</summary>
    public static string OfValues(IEnumerable<object?> values)
    {
        var text = new StringBuilder(32);
        foreach (var value in values)
        {
            text.Append('\u001f');
            Append(text, value);
        }
        return text.ToString();
    }

    private static void Append(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null: text.Append("\u0000null"); break;
            case byte[] bytes: text.Append("0x").Append(Convert.ToHexString(bytes)); break;
            case string s: text.Append('\'').Append(s); break;
            case IFormattable f: text.Append(f.ToString(null, CultureInfo.InvariantCulture)); break;
            default: text.Append(value); break;
        }
    }
}
