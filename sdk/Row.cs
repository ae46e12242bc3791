using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace PluginHost.Sdk;

/// <summary>
/// One row image: column name → value, in column order. Reading a column that is not there gives null
/// (absent from a MINIMAL image, or never set); assigning adds or replaces a column.
/// </summary>
/// <remarks>
/// Rows of one table share their column names (a <see cref="RowLayout"/>) and hold only their values, so a row costs
/// two allocations plus its values, not a dictionary. Adding or removing a column gives the row its own copy of the
/// names first; the rows it shared them with do not change.
/// </remarks>
public sealed class Row : IDictionary<string, object?>, IReadOnlyDictionary<string, object?>
{
    private RowLayout _layout;
    private object?[] _values;
    private int _version; // changes when columns are added or removed (enumerators check it)

    public Row() : this(4) { }

    public Row(int capacity)
    {
        _layout = new RowLayout(Math.Max(capacity, 1));
        _values = new object?[Math.Max(capacity, 1)];
    }

    /// <summary>A row over shared column names (<paramref name="values"/> by position; the row keeps the array).</summary>
    public Row(RowLayout layout, object?[] values)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length < layout.Count) throw new ArgumentException($"{layout.Count} columns need {layout.Count} values, got {values.Length}", nameof(values));
        layout.Share();
        _layout = layout;
        _values = values;
    }

    /// <summary>The value of a column, or null when the row has no such column.</summary>
    public object? this[string column]
    {
        get
        {
            var i = _layout.IndexOf(column);
            return i < 0 ? null : _values[i];
        }
        set
        {
            var i = _layout.IndexOf(column);
            if (i >= 0) _values[i] = value;
            else Append(column, value);
        }
    }

    public int Count => _layout.Count;

    /// <summary>The column names this row uses now (shared with the rows of its table until a column is added or removed).</summary>
    internal RowLayout Layout => _layout;

    /// <summary>The value at a column position (no check against <see cref="Count"/>; the event JSON writer's fast path).</summary>
    internal object? ValueAt(int index) => _values[index];
    public ICollection<string> Keys => new KeyCollection(this);
    public ICollection<object?> Values => new ValueCollection(this);
    IEnumerable<string> IReadOnlyDictionary<string, object?>.Keys => Keys;
    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values => Values;
    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    /// <summary>True when the row has the column (even if its value is null).</summary>
    public bool ContainsKey(string column) => _layout.IndexOf(column) >= 0;

    public bool TryGetValue(string column, [MaybeNullWhen(false)] out object? value)
    {
        var i = _layout.IndexOf(column);
        value = i < 0 ? null : _values[i];
        return i >= 0;
    }

    /// <summary>Typed read: the value converted to <typeparamref name="T"/>, or default when absent or null.</summary>
    public T? Get<T>(string column) => this[column] switch
    {
        null => default,
        T t => t,
        IConvertible c when typeof(T).IsPrimitive || typeof(T) == typeof(decimal) || typeof(T) == typeof(string) =>
            (T)Convert.ChangeType(c, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture),
        var v => throw new InvalidCastException($"column '{column}' holds a {v.GetType().Name}, not a {typeof(T).Name}"),
    };

    public void Add(string column, object? value)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (_layout.IndexOf(column) >= 0) throw new ArgumentException($"the row already has a column '{column}'", nameof(column));
        Append(column, value);
    }

    public bool Remove(string column)
    {
        var i = _layout.IndexOf(column);
        if (i < 0) return false;
        _layout = _layout.Without(i);
        _version++;
        var values = new object?[Math.Max(_values.Length - 1, 1)];
        Array.Copy(_values, 0, values, 0, i);
        Array.Copy(_values, i + 1, values, i, _layout.Count - i);
        _values = values;
        return true;
    }

    public void Clear()
    {
        _layout = new RowLayout(4);
        _values = new object?[4];
        _version++;
    }

    /// <summary>A shallow copy (values are shared; byte arrays and JSON nodes are not cloned).</summary>
    public Row Clone() => new(_layout, (object?[])_values.Clone());

    /// <summary>Makes this row a copy of <paramref name="source"/> (columns shared, values copied), reusing this row's storage.</summary>
    internal void CopyFrom(Row source)
    {
        var count = source._layout.Count;
        source._layout.Share();
        var previous = _layout.Count;
        _layout = source._layout;
        _version++;
        if (_values.Length < count) _values = new object?[Math.Max(count, source._values.Length)];
        Array.Copy(source._values, _values, count);
        if (previous > count) Array.Clear(_values, count, Math.Min(previous, _values.Length) - count); // no stale references kept
    }

    private void Append(string column, object? value)
    {
        ArgumentNullException.ThrowIfNull(column);
        _layout = _layout.With(column);
        _version++;
        if (_values.Length < _layout.Count) Array.Resize(ref _values, Math.Max(_layout.Count, _values.Length * 2));
        _values[_layout.Count - 1] = value;
    }

    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) =>
        TryGetValue(item.Key, out var v) && Equals(v, item.Value);

    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex)
    {
        foreach (var kv in this) array[arrayIndex++] = kv;
    }

    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item) =>
        TryGetValue(item.Key, out var v) && Equals(v, item.Value) && Remove(item.Key);

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", this.Select(kv => $"{kv.Key}={kv.Value ?? "NULL"}"));

    /// <summary>Columns in order, as name/value pairs.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<string, object?>>
    {
        private readonly Row _row;
        private readonly int _version;
        private int _index;

        internal Enumerator(Row row)
        {
            _row = row;
            _version = row._version;
            _index = -1;
        }

        public readonly KeyValuePair<string, object?> Current => new(_row._layout.NameAt(_index), _row._values[_index]);
        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_version != _row._version) throw new InvalidOperationException("the row was changed while it was being enumerated");
            return ++_index < _row._layout.Count;
        }

        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }

    private sealed class KeyCollection(Row row) : ICollection<string>
    {
        public int Count => row.Count;
        public bool IsReadOnly => true;
        public bool Contains(string item) => row.ContainsKey(item);
        public void CopyTo(string[] array, int arrayIndex)
        {
            for (var i = 0; i < row.Count; i++) array[arrayIndex + i] = row._layout.NameAt(i);
        }
        public IEnumerator<string> GetEnumerator()
        {
            foreach (var kv in row) yield return kv.Key;
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        public void Add(string item) => throw new NotSupportedException();
        public void Clear() => throw new NotSupportedException();
        public bool Remove(string item) => throw new NotSupportedException();
    }

    private sealed class ValueCollection(Row row) : ICollection<object?>
    {
        public int Count => row.Count;
        public bool IsReadOnly => true;
        public bool Contains(object? item) => row.Any(kv => Equals(kv.Value, item));
        public void CopyTo(object?[] array, int arrayIndex) => Array.Copy(row._values, 0, array, arrayIndex, row.Count);
        public IEnumerator<object?> GetEnumerator()
        {
            foreach (var kv in row) yield return kv.Value;
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        public void Add(object? item) => throw new NotSupportedException();
        public void Clear() => throw new NotSupportedException();
        public bool Remove(object? item) => throw new NotSupportedException();
    }
}
