using System.Diagnostics;
using PluginHost.Binlog.Replication;

namespace PluginHost.Pipelines;

/// <summary>
/// The keys of one table's rows the stream changed while its chunks are read: a chunk row whose key the stream
/// changed after the chunk's position is dropped (the stream already delivered a newer image of it). Written by the
/// reader, pruned at each injection (same thread).
/// </summary>
internal sealed class SnapshotWindow(SnapshotTableHandle table)
{
    private readonly Dictionary<string, (string File, long End, long ReadAt)> _seen = new(StringComparer.Ordinal);

    public SnapshotTableHandle Table { get; } = table;

    public int Count => _seen.Count;

    /// <summary>A change of the row with <paramref name="key"/> read from the binlog, ending at <paramref name="file"/>:<paramref name="end"/>.</summary>
    public void Record(string key, string file, long end) => _seen[key] = (file, end, Stopwatch.GetTimestamp());

    /// <summary>
    /// True when the stream changed <paramref name="key"/> after the chunk's rows were taken: after
    /// <paramref name="exactPosition"/> when the chunk has one, else (watermarks) at or after <paramref name="openedAt"/>
    /// (a timestamp a grace period before the chunk's read began).
    /// </summary>
    public bool ChangedAfter(string key, BinlogPosition? exactPosition, long openedAt)
    {
        if (!_seen.TryGetValue(key, out var seen)) return false;
        return exactPosition is { } at ? Compare(seen.File, seen.End, at) > 0 : seen.ReadAt >= openedAt;
    }

    /// <summary>Forgets changes no later chunk can need: at or before <paramref name="exactPosition"/>, or read before <paramref name="olderThan"/>.</summary>
    public void Prune(BinlogPosition? exactPosition, long olderThan)
    {
        List<string>? gone = null;
        foreach (var (key, seen) in _seen)
            if (exactPosition is { } at ? Compare(seen.File, seen.End, at) <= 0 : seen.ReadAt < olderThan)
                (gone ??= []).Add(key);
        if (gone != null) foreach (var key in gone) _seen.Remove(key);
    }

    /// <summary>Orders binlog places: by file name (numbered), then offset.</summary>
    public static int Compare(string file, long position, BinlogPosition other)
    {
        var c = string.CompareOrdinal(file, other.File);
        return c != 0 ? c : position.CompareTo(other.Position);
    }
}
