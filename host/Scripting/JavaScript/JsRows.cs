using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime.Descriptors;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// The rows of one event as handed to a script, and their way back: a row object the script changed in place is
/// written back into its <see cref="Row"/> (values it did not touch keep their .NET value); any other object becomes a
/// new row. The same row object returned twice (fan-out) gives two rows.
/// </summary>
internal sealed class JsRows
{
    // Entries and their arrays are reused event after event (one transform, one thread): no allocation but the objects.
    private sealed class Entry
    {
        public JsObject Js = null!;
        public Row Row = null!;
        public string[] Names = [];
        public JsValue[] Values = [];
        public int Count;
        public bool Taken;
    }

    private readonly List<Entry> _pool = new(2);

    /// <summary>The reader of own properties this event's read-back shares.</summary>
    public JsOwnProperties Own { get; } = new();
    private int _used;

    private KeyValuePair<string, JsValue>[] _entries = [];

    /// <summary>Forgets the previous event's rows.</summary>
    public void Clear()
    {
        for (var i = 0; i < _used; i++)
        {
            var e = _pool[i];
            e.Js = null!;
            e.Row = null!;
            Array.Clear(e.Values, 0, e.Count);
        }
        _used = 0;
    }

    /// <summary>The row as a JavaScript object (null as null).</summary>
    public JsValue ToJs(Engine engine, Row? row)
    {
        if (row is null) return JsValue.Null;
        if (_used == _pool.Count) _pool.Add(new Entry());
        var entry = _pool[_used++];
        var count = row.Count;
        if (entry.Names.Length < count)
        {
            entry.Names = new string[count];
            entry.Values = new JsValue[count];
        }
        var names = entry.Names;
        var values = entry.Values;
        if (_entries.Length < count) _entries = new KeyValuePair<string, JsValue>[count];
        var i = 0;
        foreach (var (name, value) in row)
        {
            var v = JsValues.ToJs(value);
            names[i] = name;
            values[i] = v;
            _entries[i++] = new(name, v);
        }
        var js = Build(engine, _entries.AsSpan(0, count));
        Array.Clear(_entries, 0, count);
        entry.Js = js;
        entry.Row = row;
        entry.Count = count;
        entry.Taken = false;
        return js;
    }

    /// <summary>
    /// An object with these properties, in this order, built as a shaped (hidden-class) object that stays shaped when
    /// the script adds a property (objects built the same way share their shapes); as an object literal would be.
    /// </summary>
    public static JsObject Build(Engine engine, ReadOnlySpan<KeyValuePair<string, JsValue>> properties) =>
        JsObject.CreateFromEntries(engine, properties);

    /// <summary>
    /// The row a script left in <paramref name="value"/> (null for null/undefined); <paramref name="field"/> followed by
    /// <paramref name="suffix"/> names it in errors (joined only then).
    /// </summary>
    public Row? FromJs(JsValue value, string field, string suffix = "")
    {
        if (value.IsNull() || value.IsUndefined()) return null;
        if (value is not ObjectInstance o || value is JsArray || (o is Jint.Native.Function.Function))
            throw new InvalidOperationException($"{field}{suffix} must be a row object (column → value) or null, not {Describe(value)}");
        for (var i = 0; i < _used; i++)
        {
            var e = _pool[i];
            if (!ReferenceEquals(e.Js, o)) continue;
            if (e.Taken) return WriteBack(e, e.Row.Clone()); // the same object emitted twice: a copy (as read back now)
            e.Taken = true;
            return WriteBack(e, e.Row);
        }
        var row = new Row(8);
        foreach (var (key, descriptor) in o.GetOwnProperties())
            if (key.IsString()) row[key.AsString()] = JsValues.FromJs(ValueOf(o, key, descriptor));
        return row;
    }

    private Row WriteBack(Entry e, Row row)
    {
        var o = e.Js;
        var position = 0;
        var matched = 0;
        foreach (var (name, value) in Own.Read(o))
        {
            var index = position < e.Count && e.Names[position] == name ? position : Array.IndexOf(e.Names, name, 0, e.Count);
            position++;
            if (index < 0)
            {
                row[name] = JsValues.FromJs(value); // a column the script added
                continue;
            }
            matched++;
            if (ReferenceEquals(value, e.Values[index])) continue;
            var original = row[name];
            var next = JsValues.FromJs(value, e.Values[index], original);
            if (!ReferenceEquals(next, original)) row[name] = next;
        }
        if (matched < e.Count)
            foreach (var name in e.Names.AsSpan(0, e.Count))
                if (o.GetOwnProperty(name) == Jint.Runtime.Descriptors.PropertyDescriptor.Undefined) row.Remove(name); // deleted by the script
        return row;
    }

    /// <summary>
    /// An own property's value from the descriptor the enumeration gave (a data property: no second lookup by name);
    /// a getter is called as <c>o[key]</c> would.
    /// </summary>
    public static JsValue ValueOf(ObjectInstance o, JsValue key, PropertyDescriptor descriptor) =>
        descriptor.IsAccessorDescriptor() ? o.Get(key) : descriptor.Value ?? JsValue.Undefined;

    /// <summary>A value's kind for an error message.</summary>
    public static string Describe(JsValue value) => value switch
    {
        JsArray => "an array",
        _ when value.IsString() => "a string",
        _ when value.IsNumber() => $"the number {value}",
        _ when value.IsBoolean() => $"{value}",
        Jint.Native.Function.Function => "a function",
        _ => value.Type.ToString().ToLowerInvariant(),
    };
}
