using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace PluginHost.Sdk;

/// <summary>
/// The extra top-level fields of an event (<see cref="ChangeEvent.Extra"/>): a dictionary that refuses the names the
/// event JSON already uses (<c>op</c>, <c>database</c>, <c>table</c>, <c>before</c>, <c>after</c>, <c>gtid</c>,
/// <c>file</c>, <c>pos</c>, <c>ts</c>), so a transform can never produce an object with a field twice. Names are
/// case-sensitive, as in JSON.
/// </summary>
public sealed class ExtraFields : IDictionary<string, object?>, IReadOnlyDictionary<string, object?>
{
    // A few fields per event is the rule (a transform adds one or two): an array searched in order is cheaper to make
    // and to read than a hash table, and keeps the order the fields were added in.
    private KeyValuePair<string, object?>[] _items;
    private int _count;

    public ExtraFields() => _items = [];

    /// <summary>A copy of <paramref name="other"/>.</summary>
    public ExtraFields(ExtraFields other)
    {
        _items = other._count == 0 ? [] : other._items[..other._count];
        _count = other._count;
    }

    /// <summary>True for the names of the event's own fields, which cannot be extra fields.</summary>
    public static bool IsReserved(string name) =>
        name is "op" or "database" or "table" or "before" or "after" or "gtid" or "file" or "pos" or "ts";

    public object? this[string key]
    {
        get => IndexOf(key) is var i and >= 0 ? _items[i].Value : throw new KeyNotFoundException($"the event has no extra field '{key}'");
        set
        {
            var i = IndexOf(key);
            if (i >= 0) _items[i] = new KeyValuePair<string, object?>(key, value);
            else Append(Check(key), value);
        }
    }

    public int Count => _count;
    public ICollection<string> Keys => [.. this.Select(kv => kv.Key)];
    public ICollection<object?> Values => [.. this.Select(kv => kv.Value)];
    IEnumerable<string> IReadOnlyDictionary<string, object?>.Keys => Keys;
    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values => Values;
    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    public void Add(string key, object? value)
    {
        if (!TryAdd(key, value)) throw new ArgumentException($"the event already has an extra field '{key}'", nameof(key));
    }

    public bool TryAdd(string key, object? value)
    {
        Check(key);
        if (IndexOf(key) >= 0) return false;
        Append(key, value);
        return true;
    }

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool Remove(string key)
    {
        var i = IndexOf(key);
        if (i < 0) return false;
        Array.Copy(_items, i + 1, _items, i, _count - i - 1);
        _items[--_count] = default;
        return true;
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? _items[i].Value : null;
        return i >= 0;
    }

    /// <summary>Makes these fields a copy of <paramref name="other"/>, reusing this instance's storage.</summary>
    internal void CopyFrom(ExtraFields other)
    {
        var previous = _count;
        if (_items.Length < other._count) _items = new KeyValuePair<string, object?>[other._count];
        Array.Copy(other._items, _items, other._count);
        _count = other._count;
        if (previous > _count) Array.Clear(_items, _count, previous - _count);
    }

    public void Clear()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
    }

    /// <summary>Enumerates the fields in the order they were added (no allocation).</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);
    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) => IndexOf(item.Key) is var i and >= 0 && Equals(_items[i].Value, item.Value);

    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int index) => Array.Copy(_items, 0, array, index, _count);

    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item) =>
        ((ICollection<KeyValuePair<string, object?>>)this).Contains(item) && Remove(item.Key);

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var items = _items;
        for (var i = 0; i < _count; i++)
            if (ReferenceEquals(items[i].Key, key) || string.Equals(items[i].Key, key, StringComparison.Ordinal)) return i;
        return -1;
    }

    private void Append(string key, object? value)
    {
        if (_count == _items.Length) Array.Resize(ref _items, Math.Max(4, _count * 2));
        _items[_count++] = new KeyValuePair<string, object?>(key, value);
    }

    private static string Check(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (IsReserved(key))
            throw new ArgumentException($"'{key}' is a field of the event itself and cannot be an extra field " +
                                        "(set the event's own property, e.g. e.Table, or choose another name)", nameof(key));
        return key;
    }

    /// <summary>Enumerates the fields in order.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<string, object?>>
    {
        private readonly ExtraFields _fields;
        private int _index;

        internal Enumerator(ExtraFields fields)
        {
            _fields = fields;
            _index = -1;
        }

        public readonly KeyValuePair<string, object?> Current => _fields._items[_index];
        readonly object IEnumerator.Current => Current;
        public bool MoveNext() => ++_index < _fields._count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}
