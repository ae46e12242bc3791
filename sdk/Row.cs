using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace PluginHost.Sdk;

/// <summary>
/// One row image: column name → value, in column order. Reading a column that is not there gives null
/// (absent from a MINIMAL image, or never set); assigning adds or replaces a column.
/// </summary>
public sealed class Row : IDictionary<string, object?>, IReadOnlyDictionary<string, object?>
{
    private readonly OrderedDictionary<string, object?> _values;

    public Row() => _values = new OrderedDictionary<string, object?>(StringComparer.Ordinal);

    public Row(int capacity) => _values = new OrderedDictionary<string, object?>(capacity, StringComparer.Ordinal);

    /// <summary>The value of a column, or null when the row has no such column.</summary>
    public object? this[string column]
    {
        get => _values.TryGetValue(column, out var v) ? v : null;
        set => _values[column] = value;
    }

    public int Count => _values.Count;
    public ICollection<string> Keys => _values.Keys;
    public ICollection<object?> Values => _values.Values;
    IEnumerable<string> IReadOnlyDictionary<string, object?>.Keys => _values.Keys;
    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values => _values.Values;
    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    /// <summary>True when the row has the column (even if its value is null).</summary>
    public bool ContainsKey(string column) => _values.ContainsKey(column);

    public bool TryGetValue(string column, [MaybeNullWhen(false)] out object? value) => _values.TryGetValue(column, out value);

    /// <summary>Typed read: the value converted to <typeparamref name="T"/>, or default when absent or null.</summary>
    public T? Get<T>(string column) => this[column] switch
    {
        null => default,
        T t => t,
        IConvertible c when typeof(T).IsPrimitive || typeof(T) == typeof(decimal) || typeof(T) == typeof(string) =>
            (T)Convert.ChangeType(c, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture),
        var v => throw new InvalidCastException($"column '{column}' holds a {v.GetType().Name}, not a {typeof(T).Name}"),
    };

    public void Add(string column, object? value) => _values.Add(column, value);
    public bool Remove(string column) => _values.Remove(column);
    public void Clear() => _values.Clear();

    /// <summary>A shallow copy (values are shared; byte arrays and JSON nodes are not cloned).</summary>
    public Row Clone()
    {
        var copy = new Row(_values.Count);
        foreach (var kv in _values) copy._values.Add(kv.Key, kv.Value);
        return copy;
    }

    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => _values.Add(item.Key, item.Value);
    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) =>
        _values.TryGetValue(item.Key, out var v) && Equals(v, item.Value);
    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) =>
        ((ICollection<KeyValuePair<string, object?>>)_values).CopyTo(array, arrayIndex);
    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item) =>
        ((ICollection<KeyValuePair<string, object?>>)_values).Remove(item);

    public OrderedDictionary<string, object?>.Enumerator GetEnumerator() => _values.GetEnumerator();
    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => _values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();

    public override string ToString() => string.Join(", ", _values.Select(kv => $"{kv.Key}={kv.Value ?? "NULL"}"));
}
