using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Which ordering lane a row's events take. The lane follows from the table plus the primary key values of a row image;
/// for a table without a (known) primary key from the table alone, so all of that table's events share one lane and stay
/// in commit order (a keyless row has no identity that survives an update). Unlike <see cref="ChangeEvent.RowKey"/>
/// (the Kafka message key, which uses the whole row of a keyless table), this never changes when a keyless row does.
/// The key is hashed value by value: no key string is built per event.
/// </summary>
internal static class RowLanes
{
    /// <summary>The lane among <paramref name="lanes"/> of <paramref name="row"/> (an image of <paramref name="e"/>'s row).</summary>
    public static int Of(ChangeEvent e, Row? row, int lanes)
    {
        if (lanes == 1) return 0;
        var hash = new HashCode();
        hash.Add(e.Database, StringComparer.Ordinal);
        hash.Add(e.Table, StringComparer.Ordinal);
        if (row != null && e.Schema is { PrimaryKey.Count: > 0 } s)
            foreach (var name in s.PrimaryKey) AddValue(ref hash, row[name]);
        return (int)((uint)hash.ToHashCode() % (uint)lanes);
    }

    /// <summary>The lane of the row as the event leaves it (after image; before image for a delete).</summary>
    public static int Of(ChangeEvent e, int lanes) => Of(e, e.Current, lanes);

    /// <summary>
    /// True for an update that changes the primary key (<c>UPDATE t SET id = 2 WHERE id = 1</c>) onto another lane:
    /// <paramref name="beforeLane"/> is then the lane of the key the row had, where its earlier events may sit.
    /// </summary>
    public static bool MovesLane(ChangeEvent e, int afterLane, int lanes, out int beforeLane)
    {
        beforeLane = afterLane;
        if (lanes == 1 || !e.ChangesPrimaryKey()) return false;
        beforeLane = Of(e, e.Before, lanes);
        return beforeLane != afterLane;
    }

    /// <summary>Equal key values hash equally, whatever integer type holds them (a transform may store an int for a long).</summary>
    private static void AddValue(ref HashCode hash, object? value)
    {
        switch (value)
        {
            case null: hash.Add(0); break;
            case string s: hash.Add(s, StringComparer.Ordinal); break;
            case byte[] b: hash.AddBytes(b); break;
            case long l: hash.Add(l); break;
            case int i: hash.Add((long)i); break;
            case short i: hash.Add((long)i); break;
            case sbyte i: hash.Add((long)i); break;
            case byte i: hash.Add((long)i); break;
            case ushort i: hash.Add((long)i); break;
            case uint i: hash.Add((long)i); break;
            case ulong u when u <= long.MaxValue: hash.Add((long)u); break;
            default: hash.Add(value); break;
        }
    }
}
