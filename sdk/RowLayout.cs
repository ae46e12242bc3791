namespace PluginHost.Sdk;

/// <summary>
/// The column names of rows, in order, shared by the rows of one table (see <see cref="Row"/>). Once a row uses it,
/// a layout never changes: a row that adds or removes a column continues with its own copy.
/// </summary>
public sealed class RowLayout
{
    private const int ScanLimit = 8; // up to this many columns a scan beats hashing
    private string[] _names;
    private Dictionary<string, int>? _index;
    private bool _shared;

    /// <summary>A layout of these column names (distinct, in order).</summary>
    public RowLayout(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        _names = names.ToArray();
        Count = _names.Length;
        for (var i = 0; i < Count; i++)
        {
            ArgumentNullException.ThrowIfNull(_names[i], nameof(names));
            if (IndexOf(_names[i], i) >= 0) throw new ArgumentException($"the column '{_names[i]}' appears twice", nameof(names));
            if (i + 1 > ScanLimit) (_index ??= BuildIndex(i))[_names[i]] = i;
        }
    }

    internal RowLayout(int capacity) => _names = new string[capacity];

    private RowLayout(string[] names, int count)
    {
        _names = names;
        Count = count;
        if (count > ScanLimit) _index = BuildIndex(count);
    }

    /// <summary>Number of columns.</summary>
    public int Count { get; private set; }

    /// <summary>The name of the column at <paramref name="index"/>.</summary>
    public string NameAt(int index) => (uint)index < (uint)Count ? _names[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The position of a column, or -1.</summary>
    public int IndexOf(string name) => IndexOf(name, Count);

    private int IndexOf(string name, int count)
    {
        if (_index != null && count == Count) return _index.TryGetValue(name, out var i) ? i : -1;
        for (var i = 0; i < count; i++)
        {
            var n = _names[i];
            if (ReferenceEquals(n, name) || string.Equals(n, name, StringComparison.Ordinal)) return i;
        }
        return -1;
    }

    /// <summary>Marks the layout as used by rows: from now on it is never changed in place.</summary>
    internal void Share() => _shared = true;

    /// <summary>
    /// This layout plus a column at the end: in place when no other row uses it. A shared layout remembers its last
    /// extension, so rows of a table that all gain the same column (a transform marking each row) share that too.
    /// </summary>
    internal RowLayout With(string name)
    {
        if (_shared)
        {
            if (Volatile.Read(ref _extension) is { } known && string.Equals(known.Name, name, StringComparison.Ordinal)) return known.Layout;
            var child = new RowLayout(CopyNames(Count + 1), Count);
            child.Append(name);
            child._shared = true;
            Volatile.Write(ref _extension, new Extension(name, child));
            return child;
        }
        Append(name);
        return this;
    }

    private sealed record Extension(string Name, RowLayout Layout);

    private Extension? _extension;

    private void Append(string name)
    {
        var target = this;
        if (target._names.Length == target.Count) Array.Resize(ref target._names, Math.Max(target.Count * 2, 4));
        target._names[target.Count] = name;
        target.Count++;
        if (target._index != null) target._index[name] = target.Count - 1;
        else if (target.Count > ScanLimit) target._index = target.BuildIndex(target.Count);
    }

    /// <summary>This layout without the column at <paramref name="index"/> (always a new layout).</summary>
    internal RowLayout Without(int index)
    {
        var names = new string[Math.Max(Count - 1, 1)];
        Array.Copy(_names, 0, names, 0, index);
        Array.Copy(_names, index + 1, names, index, Count - index - 1);
        return new RowLayout(names, Count - 1);
    }

    private string[] CopyNames(int capacity)
    {
        var names = new string[Math.Max(capacity, Count)];
        Array.Copy(_names, names, Count);
        return names;
    }

    private Dictionary<string, int> BuildIndex(int count)
    {
        var index = new Dictionary<string, int>(count * 2, StringComparer.Ordinal);
        for (var i = 0; i < count; i++) index[_names[i]] = i;
        return index;
    }
}
