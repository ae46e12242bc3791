namespace PluginHost.Binlog.Gtid;

/// <summary>Sorted, disjoint, non-adjacent inclusive intervals of one server (and tag) of a <see cref="MySqlGtidSet"/>.</summary>
internal sealed class GtidIntervalList
{
    private GtidInterval[] _items = new GtidInterval[4];

    public int Count { get; private set; }

    public ref GtidInterval this[int index] => ref _items[index];

    public ref GtidInterval this[Index index] => ref _items[index.GetOffset(Count)];

    public bool Add(long n)
    {
        if (Count > 0)
        {
            ref var last = ref _items[Count - 1];
            if (n == last.Last + 1)
            {
                last.Last = n;
                return true;
            }
            if (n > last.Last + 1)
            {
                Append(n, n);
                return true;
            }
            if (n >= last.First) return false;
            if (Contains(n)) return false;
        }
        AddRange(n, n);
        return true;
    }

    public bool Contains(long n)
    {
        int lo = 0, hi = Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_items[mid].Last < n) lo = mid + 1;
            else if (_items[mid].First > n) hi = mid - 1;
            else return true;
        }
        return false;
    }

    /// <summary>True when every number of first…last is in the list.</summary>
    public bool ContainsRange(long first, long last)
    {
        var i = LowerBoundByLast(first);
        return i < Count && _items[i].First <= first && _items[i].Last >= last;
    }

    public void AddRange(long first, long last)
    {
        // i: first interval that ends at or after first - 1 (could touch or overlap);
        // j: first interval that starts after last + 1 (strictly beyond reach).
        var i = LowerBoundByLast(first - 1);
        var j = i;
        while (j < Count && _items[j].First <= last + 1) j++;
        if (i == j)
        {
            Insert(i, first, last);
            return;
        }
        var merged = new GtidInterval(Math.Min(first, _items[i].First), Math.Max(last, _items[j - 1].Last));
        _items[i] = merged;
        var removed = j - i - 1;
        if (removed > 0)
        {
            Array.Copy(_items, j, _items, i + 1, Count - j);
            Count -= removed;
        }
    }

    public GtidIntervalList Clone()
    {
        var copy = new GtidIntervalList { _items = (GtidInterval[])_items.Clone() };
        copy.Count = Count;
        return copy;
    }

    public bool SameAs(GtidIntervalList other) =>
        Count == other.Count && _items.AsSpan(0, Count).SequenceEqual(other._items.AsSpan(0, other.Count));

    private int LowerBoundByLast(long value)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_items[mid].Last < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private void Append(long first, long last) => Insert(Count, first, last);

    private void Insert(int index, long first, long last)
    {
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        if (index < Count) Array.Copy(_items, index, _items, index + 1, Count - index);
        _items[index] = new GtidInterval(first, last);
        Count++;
    }
}


/// <summary>An inclusive interval of transaction numbers.</summary>
internal record struct GtidInterval(long First, long Last);
