using System.Collections.Concurrent;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// A pipeline's events per table (<c>database.table</c>): in (rows read that passed the filter, snapshot rows included)
/// and out (events handed to the sink, by the table they carry after the transform). Counted per batch of rows, never per event.
/// </summary>
internal sealed class TableCounts
{
    private sealed class Count
    {
        public long In, Out;
    }

    private readonly ConcurrentDictionary<(string Database, string Table), Count> _tables = new();

    /// <summary><paramref name="n"/> rows of one table read.</summary>
    public void AddIn(string database, string table, long n)
    {
        if (n > 0) Interlocked.Add(ref Of(database, table).In, n);
    }

    /// <summary><paramref name="n"/> events of one table the sink took.</summary>
    public void AddOut(string database, string table, long n)
    {
        if (n > 0) Interlocked.Add(ref Of(database, table).Out, n);
    }

    /// <summary>A batch the sink took, counted in runs of one table.</summary>
    public void AddOut(List<ChangeEvent> batch)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var first = batch[i];
            var run = 1;
            while (i + run < batch.Count && string.Equals(batch[i + run].Table, first.Table, StringComparison.Ordinal)
                   && string.Equals(batch[i + run].Database, first.Database, StringComparison.Ordinal))
                run++;
            Interlocked.Add(ref Of(first.Database ?? "", first.Table ?? "").Out, run);
            i += run;
        }
    }

    /// <summary>Every table seen, by name (<c>database.table</c>), with its in and out.</summary>
    public IReadOnlyList<(string Table, long In, long Out)> Snapshot() => _tables
        .Select(t => (t.Key.Database + "." + t.Key.Table, Interlocked.Read(ref t.Value.In), Interlocked.Read(ref t.Value.Out)))
        .OrderBy(t => t.Item1, StringComparer.Ordinal)
        .ToList();

    private Count Of(string database, string table) => _tables.GetOrAdd((database, table), static _ => new Count());
}
