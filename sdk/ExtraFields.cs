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
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal) { "op", "database", "table", "before", "after", "gtid", "file", "pos", "ts" };

    private readonly Dictionary<string, object?> _fields;

    public ExtraFields() => _fields = new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>A copy of <paramref name="other"/>.</summary>
    public ExtraFields(ExtraFields other) => _fields = new Dictionary<string, object?>(other._fields, StringComparer.Ordinal);

    /// <summary>True for the names of the event's own fields, which cannot be extra fields.</summary>
    public static bool IsReserved(string name) => Reserved.Contains(name);

    public object? this[string key]
    {
        get => _fields[key];
        set => _fields[Check(key)] = value;
    }

    public int Count => _fields.Count;
    public ICollection<string> Keys => _fields.Keys;
    public ICollection<object?> Values => _fields.Values;
    IEnumerable<string> IReadOnlyDictionary<string, object?>.Keys => _fields.Keys;
    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values => _fields.Values;
    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    public void Add(string key, object? value) => _fields.Add(Check(key), value);
    public bool TryAdd(string key, object? value) => _fields.TryAdd(Check(key), value);
    public bool ContainsKey(string key) => _fields.ContainsKey(key);
    public bool Remove(string key) => _fields.Remove(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value) => _fields.TryGetValue(key, out value);
    public void Clear() => _fields.Clear();

    /// <summary>Enumerates the fields in the order they were added (no allocation).</summary>
    public Dictionary<string, object?>.Enumerator GetEnumerator() => _fields.GetEnumerator();

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() => _fields.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _fields.GetEnumerator();
    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);
    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) => ((ICollection<KeyValuePair<string, object?>>)_fields).Contains(item);
    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int index) => ((ICollection<KeyValuePair<string, object?>>)_fields).CopyTo(array, index);
    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item) => ((ICollection<KeyValuePair<string, object?>>)_fields).Remove(item);

    private static string Check(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Reserved.Contains(key))
            throw new ArgumentException($"'{key}' is a field of the event itself and cannot be an extra field " +
                                        "(set the event's own property, e.g. e.Table, or choose another name)", nameof(key));
        return key;
    }
}
