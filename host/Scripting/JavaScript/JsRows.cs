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
        public object? Shape; // the object's shape as built (null: none, or no JsShapes)
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

    /// <summary>Forgets the previous event's rows.</summary>
    public void Clear()
    {
        for (var i = 0; i < _used; i++)
        {
            var e = _pool[i];
            e.Js = null!;
            e.Shape = null;
            e.Row = null!;
            Array.Clear(e.Values, 0, e.Count);
        }
        _used = 0;
    }

    /// <summary>The row as a JavaScript object (null as null).</summary>
    public JsValue ToJs(JsShapeCache shapes, Row? row)
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
        var i = 0;
        foreach (var (name, value) in row)
        {
            names[i] = name;
            values[i++] = JsValues.ToJs(value);
        }
        var js = shapes.Row(row, names.AsSpan(0, count), values.AsSpan(0, count));
        entry.Js = js;
        entry.Shape = JsShapes.Available ? JsShapes.Of(js) : null;
        entry.Row = row;
        entry.Count = count;
        entry.Taken = false;
        return js;
    }

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
        if (e.Shape is { } built && JsShapes.Of(o) is { } shape)
        {
            if (ReferenceEquals(shape, built))
            {
                // The same properties in the same order as built: only values can differ.
                for (var i = 0; i < e.Count; i++)
                    if (JsShapes.Slot(o, i) is var value && !ReferenceEquals(value, e.Values[i])) Update(e, row, i, value);
                return row;
            }
            if (JsShapes.TryKeys(shape, out var keys))
            {
                for (var i = 0; i < keys!.Length; i++) Take(e, row, keys[i].AsString(), JsShapes.Slot(o, i), ref position, ref matched);
                return Deleted(e, row, matched);
            }
        }
        foreach (var (name, value) in Own.Read(o)) Take(e, row, name, value, ref position, ref matched);
        return Deleted(e, row, matched);
    }

    // One own property of a row object read back: a column's value (kept when unchanged) or a column the script added.
    private static void Take(Entry e, Row row, string name, JsValue value, ref int position, ref int matched)
    {
        var index = position < e.Count && e.Names[position] == name ? position : Array.IndexOf(e.Names, name, 0, e.Count);
        position++;
        if (index < 0)
        {
            row[name] = JsValues.FromJs(value); // a column the script added
            return;
        }
        matched++;
        if (!ReferenceEquals(value, e.Values[index])) Update(e, row, index, value);
    }

    private static void Update(Entry e, Row row, int index, JsValue value)
    {
        var name = e.Names[index];
        var original = row[name];
        var next = JsValues.FromJs(value, e.Values[index], original);
        if (!ReferenceEquals(next, original)) row[name] = next;
    }

    private static Row Deleted(Entry e, Row row, int matched)
    {
        if (matched < e.Count)
            foreach (var name in e.Names.AsSpan(0, e.Count))
                if (e.Js.GetOwnProperty(name) == PropertyDescriptor.Undefined) row.Remove(name); // deleted by the script
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
