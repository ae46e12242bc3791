using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// What a snapshot row holds in memory (the event and row objects, boxed values, text twice its length): charged to
/// the queue's budget, and what sizes the next chunk so that a chunk of wide rows stays small.
/// </summary>
internal static class SnapshotRowSize
{
    /// <summary>Bytes a chunk may hold: a table of 1 MB rows is read a few rows at a time, one of small rows <c>chunk_size</c> at a time.</summary>
    public const long ChunkBytes = 8L << 20;

    /// <summary>Rows of the first chunk of a table (before its row size is known).</summary>
    public const int FirstChunkRows = 4;

    public static long Of(ChangeEvent e)
    {
        long bytes = 160 + 72;
        if (e.After is { } row)
            for (var i = 0; i < row.Count; i++)
                bytes += 32 + row.ValueAt(i) switch { string s => 2L * s.Length, byte[] b => b.Length, string[] labels => 24L * labels.Length, _ => 0 };
        return bytes;
    }

    /// <summary>Rows of the next chunk: as many as fit <see cref="ChunkBytes"/> at the last chunk's row size, at most
    /// <paramref name="chunkSize"/>, growing at most eightfold from <paramref name="last"/>.</summary>
    public static int NextLimit(IReadOnlyList<ChangeEvent> lastRows, int last, int chunkSize) => Measure(lastRows, last, chunkSize).NextLimit;

    /// <summary>
    /// <see cref="NextLimit"/> and the chunk's mean row size (0 for no rows), measured in one pass: the reader charges
    /// the queue that much per row of the chunk instead of measuring every row again.
    /// </summary>
    public static (int NextLimit, long PerRow) Measure(SnapshotChunk chunk, int last, int chunkSize)
    {
        if (chunk.Raw is not { Count: > 0 } raw) return Measure(chunk.Rows, last, chunkSize);
        // What the rows hold once they are events (they become events where a transform runs): as Of, from the raw text.
        var perRow = Math.Max(1, 160 + 72 + 32L * raw.Table.Columns.Count + 2 * raw.DataBytes / raw.Count);
        return ((int)Math.Clamp(ChunkBytes / perRow, 1, Math.Min(chunkSize, (long)last * 8)), perRow);
    }

    public static (int NextLimit, long PerRow) Measure(IReadOnlyList<ChangeEvent> lastRows, int last, int chunkSize)
    {
        if (lastRows.Count == 0) return (Math.Min(chunkSize, Math.Max(last, FirstChunkRows)), 0);
        long bytes = 0;
        foreach (var e in lastRows) bytes += Of(e);
        var perRow = Math.Max(1, bytes / lastRows.Count);
        return ((int)Math.Clamp(ChunkBytes / perRow, 1, Math.Min(chunkSize, (long)last * 8)), perRow);
    }
}
