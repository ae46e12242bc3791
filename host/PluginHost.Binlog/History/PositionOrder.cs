using System.Globalization;
using PluginHost.Binlog.Replication;

namespace PluginHost.Binlog.History;

/// <summary>Orders binlog positions by file (its numeric extension, so <c>.999999</c> comes before <c>.1000000</c>) and offset.</summary>
public static class PositionOrder
{
    /// <summary>Negative, zero or positive as <paramref name="a"/> is before, at or after <paramref name="b"/>. A position
    /// without a file (a GTID start) is before every position with one.</summary>
    public static int Compare(BinlogPosition a, BinlogPosition b)
    {
        var files = CompareFiles(a.File, b.File);
        return files != 0 ? files : a.Position.CompareTo(b.Position);
    }

    private static int CompareFiles(string a, string b)
    {
        if (a.Length == 0 || b.Length == 0) return a.Length.CompareTo(b.Length) == 0 ? 0 : a.Length == 0 ? -1 : 1;
        int da = a.LastIndexOf('.'), db = b.LastIndexOf('.');
        if (da > 0 && db > 0 && a.AsSpan(0, da).SequenceEqual(b.AsSpan(0, db)) &&
            long.TryParse(a.AsSpan(da + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var na) &&
            long.TryParse(b.AsSpan(db + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var nb))
            return na.CompareTo(nb);
        return string.CompareOrdinal(a, b);
    }
}
