using Jint;
using Jint.Native;
using Jint.Native.Object;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// The rows of one event as handed to a script, and their way back: a row object the script changed in place is
/// written back into its <see cref="Row"/> (values it did not touch keep their .NET value); any other object becomes a
/// new row. The same row object returned twice (fan-out) gives two rows.
/// </summary>
internal sealed class JsRows
{
    private sealed class Entry(JsObject js, Row row, string[] names, JsValue[] values)
    {
        public readonly JsObject Js = js;
        public readonly Row Row = row;
        public readonly string[] Names = names;
        public readonly JsValue[] Values = values;
        public bool Taken;
    }

    private readonly List<Entry> _entries = new(2);

    /// <summary>Forgets the previous event's rows.</summary>
    public void Clear() => _entries.Clear();

    /// <summary>The row as a JavaScript object (null as null).</summary>
    public JsValue ToJs(Engine engine, Row? row)
    {
        if (row is null) return JsValue.Null;
        var js = new JsObject(engine);
        var names = new string[row.Count];
        var values = new JsValue[row.Count];
        var i = 0;
        foreach (var (name, value) in row)
        {
            var v = JsValues.ToJs(value);
            names[i] = name;
            values[i++] = v;
            js.FastSetDataProperty(name, v);
        }
        _entries.Add(new Entry(js, row, names, values));
        return js;
    }

    /// <summary>The row a script left in <paramref name="value"/> (null for null/undefined); <paramref name="field"/> names it in errors.</summary>
    public Row? FromJs(JsValue value, string field)
    {
        if (value.IsNull() || value.IsUndefined()) return null;
        if (value is not ObjectInstance o || value is JsArray || (o is Jint.Native.Function.Function))
            throw new InvalidOperationException($"{field} must be a row object (column → value) or null, not {Describe(value)}");
        foreach (var e in _entries)
        {
            if (!ReferenceEquals(e.Js, o)) continue;
            if (e.Taken) return WriteBack(e, e.Row.Clone()); // the same object emitted twice: a copy (as read back now)
            e.Taken = true;
            return WriteBack(e, e.Row);
        }
        var row = new Row(8);
        foreach (var (key, _) in o.GetOwnProperties())
            if (key.IsString()) row[key.AsString()] = JsValues.FromJs(o.Get(key));
        return row;
    }

    private static Row WriteBack(Entry e, Row row)
    {
        var o = e.Js;
        var position = 0;
        var matched = 0;
        foreach (var (key, _) in o.GetOwnProperties())
        {
            if (!key.IsString()) continue;
            var name = key.AsString();
            var value = o.Get(key);
            var index = position < e.Names.Length && e.Names[position] == name ? position : Array.IndexOf(e.Names, name);
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
        if (matched < e.Names.Length)
            foreach (var name in e.Names)
                if (o.GetOwnProperty(name) == Jint.Runtime.Descriptors.PropertyDescriptor.Undefined) row.Remove(name); // deleted by the script
        return row;
    }

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
