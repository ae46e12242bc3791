using Jint;
using Jint.Native;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// One engine's shapes of the objects the crossing builds for every event (a table's rows, <c>cdc_event</c>, its
/// <c>meta</c> and <c>kafka</c>, the native event): the first object of a kind is built from entries, the next ones
/// straight into its shape (<see cref="JsShapes"/>). One per script (a shape belongs to its engine), one thread.
/// </summary>
internal sealed class JsShapeCache(Engine engine)
{
    private const int MaxRowShapes = 256; // tables (row layouts) remembered; past that the cache starts over

    private static readonly object None = new(); // a kind whose objects have no shape of their own (or no JsShapes)

    private readonly Dictionary<RowLayout, object> _rows = new(ReferenceEqualityComparer.Instance);
    private KeyValuePair<string, JsValue>[] _entries = new KeyValuePair<string, JsValue>[8];

    public Engine Engine { get; } = engine;

    /// <summary>Shapes of objects with fixed names, one field per kind (null: none built yet).</summary>
    public object? Cdc, Meta, Kafka, Native;

    /// <summary>The shape of the object built last for <paramref name="kind"/>'s names (null when it has none).</summary>
    public static object? ShapeOf(object? kind) => kind == None ? null : kind;

    /// <summary>An object with <paramref name="names"/> (fixed for <paramref name="kind"/>) holding <paramref name="values"/>, in order.</summary>
    public JsObject Build(ref object? kind, ReadOnlySpan<string> names, ReadOnlySpan<JsValue> values)
    {
        if (kind is { } shape && shape != None) return JsShapes.Create(Engine, shape, values);
        var o = FromEntries(names, values);
        kind ??= ShapeFor(o, names.Length) ?? None;
        return o;
    }

    /// <summary>A row's object: its columns as properties, in order (<paramref name="values"/> in column order).</summary>
    public JsObject Row(Row row, ReadOnlySpan<string> names, ReadOnlySpan<JsValue> values)
    {
        var layout = row.Layout;
        if (_rows.TryGetValue(layout, out var shape) && shape != None && SameKeys(shape, names))
            return JsShapes.Create(Engine, shape, values);
        var o = FromEntries(names, values);
        if (_rows.Count >= MaxRowShapes) _rows.Clear();
        _rows[layout] = ShapeFor(o, names.Length) ?? None;
        return o;
    }

    private JsObject FromEntries(ReadOnlySpan<string> names, ReadOnlySpan<JsValue> values)
    {
        if (_entries.Length < names.Length) _entries = new KeyValuePair<string, JsValue>[names.Length];
        for (var i = 0; i < names.Length; i++) _entries[i] = new(names[i], values[i]);
        var o = JsObject.CreateFromEntries(Engine, _entries.AsSpan(0, names.Length));
        Array.Clear(_entries, 0, names.Length);
        return o;
    }

    // The object's shape when it holds exactly these properties (not when a name is index-like, or Jint gave up shaping).
    private static object? ShapeFor(JsObject o, int count) =>
        JsShapes.Available && JsShapes.Of(o) is { } shape && JsShapes.Count(shape) == count && JsShapes.TryKeys(shape, out _) ? shape : null;

    // A layout used by one row only may change with it (a column added or removed): the names are checked.
    private static bool SameKeys(object shape, ReadOnlySpan<string> names)
    {
        if (!JsShapes.TryKeys(shape, out var keys) || keys!.Length != names.Length) return false;
        for (var i = 0; i < names.Length; i++)
            if (keys[i].AsString() is var key && !ReferenceEquals(key, names[i]) && key != names[i]) return false;
        return true;
    }
}
