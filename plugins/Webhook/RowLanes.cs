using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Which ordering lane a row's events take. The key is the table plus the primary key values of a row image; for a
/// table without a (known) primary key it is the table alone, so all of that table's events share one lane and stay
/// in commit order (a keyless row has no identity that survives an update). Unlike <see cref="ChangeEvent.RowKey"/>
/// (the Kafka message key, which uses the whole row of a keyless table), this never changes when a keyless row does.
/// </summary>
internal static class RowLanes
{
    /// <summary>The ordering key of <paramref name="row"/> (an image of <paramref name="e"/>'s row).</summary>
    public static string Key(ChangeEvent e, Row? row)
    {
        var sb = new StringBuilder(e.Database.Length + e.Table.Length + 24).Append(e.Database).Append('.').Append(e.Table);
        if (row is null || e.Schema is not { PrimaryKey.Count: > 0 } s) return sb.ToString();
        foreach (var name in s.PrimaryKey) sb.Append('\u001f').Append(ChangeEventJson.FormatScalar(row[name]));
        return sb.ToString();
    }

    /// <summary>The ordering key of the row as the event leaves it (after image; before image for a delete).</summary>
    public static string Key(ChangeEvent e) => Key(e, e.Current);

    /// <summary>
    /// True for an update that changes the primary key (<c>UPDATE t SET id = 2 WHERE id = 1</c>):
    /// <paramref name="beforeKey"/> is then the key the row had, whose earlier events may sit on another lane.
    /// </summary>
    public static bool ChangesKey(ChangeEvent e, string afterKey, out string beforeKey)
    {
        beforeKey = afterKey;
        if (e.Op != ChangeOperation.Update || e.Before is null || e.After is null || e.Schema is not { PrimaryKey.Count: > 0 })
            return false;
        beforeKey = Key(e, e.Before);
        return !string.Equals(beforeKey, afterKey, StringComparison.Ordinal);
    }

    /// <summary>The lane of <paramref name="key"/> among <paramref name="lanes"/>.</summary>
    public static int Of(string key, int lanes) => lanes == 1 ? 0 : (int)((uint)key.GetHashCode() % (uint)lanes);
}
