using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// Jint's hidden classes (shapes) as far as the crossing needs them: an object's shape, its keys in slot order, a slot's
/// value, and an object made straight into a known shape (as <see cref="JsObject.CreateFromEntries(Engine, ReadOnlySpan{KeyValuePair{string, JsValue}})"/>
/// makes it, without a lookup per property). No public API of Jint 4.18 names a shape, so these read its internals
/// (<see cref="UnsafeAccessorAttribute"/>); <see cref="Available"/> checks them once, and with a Jint whose internals
/// differ every caller stays on the public API.
/// </summary>
internal static class JsShapes
{
    private const string ShapeType = "Jint.Native.Object.Shape, Jint";

    /// <summary>True when Jint's internals are as expected (checked once, on an engine of its own).</summary>
    public static bool Available { get; } = Probe();

    /// <summary>The shape of <paramref name="o"/>, or null when it keeps its properties in a dictionary (any property
    /// deleted, an accessor, a non-default attribute, frozen …). Objects of one shape have the same own string keys
    /// in the same order, each a plain data property (writable, enumerable, configurable).</summary>
    public static object? Of(JsObject o) => ShapeOf(o);

    /// <summary>The keys of a shape in slot (insertion) order, shared by its objects (read only); false when one looks
    /// like an array index (own-key order then differs from slot order).</summary>
    public static bool TryKeys(object shape, out JsValue[]? keys) => TryGetOrderedKeyStrings(shape, out keys);

    /// <summary>Number of properties of a shape.</summary>
    public static int Count(object shape) => SlotCount(shape);

    /// <summary>The value in slot <paramref name="slot"/> of a shaped object (what <c>o[key]</c> gives).</summary>
    public static JsValue Slot(JsObject o, int slot) => GetSlot(o, slot);

    /// <summary>
    /// A new plain object of <paramref name="shape"/> (a shape taken from an object of this engine) holding
    /// <paramref name="values"/> in slot order; a property a script adds keeps it shaped, as for an object built from entries.
    /// </summary>
    public static JsObject Create(Engine engine, object shape, ReadOnlySpan<JsValue> values)
    {
        var o = new JsObject(engine);
        StartShapeBuilding(o, shape);
        // Slots past the object's four inline ones in an array sized as adding them one by one sizes it (4, 8, 16 …):
        // a property the script adds then usually fits without growing it.
        if (values.Length > InlineSlots)
        {
            var size = InlineSlots;
            while (size < values.Length - InlineSlots) size *= 2;
            Overflow(o) = new JsValue[size];
        }
        for (var i = 0; i < values.Length; i++) SetSlot(o, i, values[i]);
        return o;
    }

    private const int InlineSlots = 4; // JsObject's in-object slots

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_ShapeOf")]
    [return: UnsafeAccessorType(ShapeType)]
    private static extern object? ShapeOf(JsObject o);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "SlotCount")]
    private static extern ref int SlotCount([UnsafeAccessorType(ShapeType)] object shape);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "TryGetOrderedKeyStrings")]
    private static extern bool TryGetOrderedKeyStrings([UnsafeAccessorType(ShapeType)] object shape, out JsValue[]? strings);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "GetSlot")]
    private static extern JsValue GetSlot(JsObject o, int slot);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "SetSlot")]
    private static extern void SetSlot(JsObject o, int slot, JsValue value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "StartShapeBuilding")]
    private static extern void StartShapeBuilding(JsObject o, [UnsafeAccessorType(ShapeType)] object emptyRoot);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_overflow")]
    private static extern ref JsValue[]? Overflow(JsObject o);

    /// <summary>Every accessor, and what a script then sees of an object made from a shape, on a throwaway engine.</summary>
    private static bool Probe()
    {
        try
        {
            using var engine = new Engine();
            var model = JsObject.CreateFromEntries(engine, [new("a", JsNumber.Create(1)), new("b", new JsString("x"))]);
            if (ShapeOf(model) is not { } shape || SlotCount(shape) != 2 || !TryGetOrderedKeyStrings(shape, out var keys)
                || keys is not [JsString { } a, JsString { } b] || a.ToString() != "a" || b.ToString() != "b" || GetSlot(model, 1).ToString() != "x")
                return false;
            var made = Create(engine, shape, [JsNumber.Create(7), new JsString("y")]);
            engine.SetValue("o", made);
            if (engine.Evaluate("o.c = 3; JSON.stringify(o)").ToString() != """{"a":7,"b":"y","c":3}""") return false;
            if (ShapeOf(made) is not { } grown || SlotCount(grown) != 3 || ReferenceEquals(grown, shape) || !GetSlot(made, 2).Equals(JsNumber.Create(3)))
                return false;
            engine.Evaluate("delete o.a");
            if (ShapeOf(made) is not null) return false;
            // Past the inline slots: six properties made, four more added.
            var wide = JsObject.CreateFromEntries(engine, [new("a", JsValue.Null), new("b", JsValue.Null), new("c", JsValue.Null), new("d", JsValue.Null), new("e", JsValue.Null), new("f", JsValue.Null)]);
            if (ShapeOf(wide) is not { } wideShape) return false;
            engine.SetValue("w", Create(engine, wideShape, [JsNumber.Create(1), JsNumber.Create(2), JsNumber.Create(3), JsNumber.Create(4), JsNumber.Create(5), JsNumber.Create(6)]));
            return engine.Evaluate("w.g = 7; w.h = 8; w.i = 9; w.j = 10; JSON.stringify(w)").ToString() == """{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}""";
        }
        catch (Exception) // whatever failed: Jint is not as expected, and the public API serves
        {
            return false;
        }
    }
}
