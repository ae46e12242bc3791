using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace PluginHost.Control;

/// <summary>
/// The desired pipeline set: immutable <see cref="PipelineEntry"/> values in an immutable list, swapped atomically on
/// each change (readers never lock and never see half a change). Every name it ever held is remembered.
/// </summary>
internal sealed class DesiredPipelines
{
    private readonly ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);
    private ImmutableList<PipelineEntry> _entries;

    public DesiredPipelines(IEnumerable<PipelineEntry> entries)
    {
        _entries = ImmutableList.CreateRange(entries);
        foreach (var e in _entries) _known.TryAdd(e.Name, 0);
    }

    /// <summary>The set now, in order (file pipelines first, then the API's).</summary>
    public ImmutableList<PipelineEntry> All => Volatile.Read(ref _entries);

    public PipelineEntry? Find(string name) => All.Find(e => e.Name == name);

    /// <summary>Whether a pipeline of this name was ever in the set.</summary>
    public bool IsKnown(string name) => _known.ContainsKey(name);

    /// <summary>Replaces the entry of that name (or appends it).</summary>
    public void Put(PipelineEntry entry)
    {
        ImmutableInterlocked.Update(ref _entries, static (list, e) =>
            list.FindIndex(x => x.Name == e.Name) is var i and >= 0 ? list.SetItem(i, e) : list.Add(e), entry);
        _known.TryAdd(entry.Name, 0);
    }

    public void Remove(string name) => ImmutableInterlocked.Update(ref _entries, static (list, n) => list.RemoveAll(x => x.Name == n), name);
}
