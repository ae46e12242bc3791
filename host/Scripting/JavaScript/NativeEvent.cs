using Jint;
using Jint.Native;
using Jint.Native.Object;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// Our event as a JavaScript object for the native contract (<c>function transform(event)</c>): the fields of the
/// event JSON plus <c>destination</c> and <c>key</c>; any other field is an extra top-level field.
/// </summary>
internal static class NativeEvent
{
    private static readonly HashSet<string> OwnFields = ["op", "database", "table", "before", "after", "gtid", "file", "pos", "ts", "destination", "key"];

    private static readonly Func<string, bool> NotExtra = name => OwnFields.Contains(name) || ExtraFields.IsReserved(name);

    // Property names as JsString, made once: a string argument to Get would be wrapped anew on every call.
    private static readonly JsString Op = new("op"), Database = new("database"), Table = new("table"), Before = new("before"), After = new("after"),
        Destination = new("destination"), Key = new("key");

    // The events of one transaction share their timestamp: its text is made once (one transform, one thread).
    [ThreadStatic] private static long _lastTicks;
    [ThreadStatic] private static JsString? _lastTs;

    private static JsString Ts(DateTimeOffset t)
    {
        if (_lastTs is null || t.UtcTicks != _lastTicks)
        {
            _lastTicks = t.UtcTicks;
            _lastTs = new JsString(t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        }
        return _lastTs;
    }

    // The event's own fields in the order the object is built with (straight into its shape after the first).
    private static readonly string[] Names = ["op", "database", "table", "before", "after", "gtid", "file", "pos", "ts", "destination", "key"];

    /// <summary>The event as a JavaScript object.</summary>
    public static JsObject ToJs(JsShapeCache shapes, ChangeEvent e, JsRows rows)
    {
        var before = rows.ToJs(shapes, e.Before);
        var after = rows.ToJs(shapes, e.After);
        var o = shapes.Build(ref shapes.Native, Names, [
            new JsString(ChangeEventJson.OpName(e.Op)), new JsString(e.Database), new JsString(e.Table), before, after,
            e.Gtid is null ? JsValue.Null : new JsString(e.Gtid), e.File is null ? JsValue.Null : new JsString(e.File), JsNumber.Create(e.Position),
            Ts(e.Timestamp), e.Destination is null ? JsValue.Null : new JsString(e.Destination), e.Key is null ? JsValue.Null : new JsString(e.Key)]);
        if (e.HasExtra)
            foreach (var (name, value) in e.Extra)
                o.FastSetDataProperty(name, JsValues.ToJs(value));
        return o;
    }

    /// <summary>Reads an event object the script returned (or changed) into <paramref name="e"/>.</summary>
    public static void FromJs(JsValue value, ChangeEvent e, JsRows rows, string field)
    {
        if (value is not ObjectInstance o || value is JsArray || (o is Jint.Native.Function.Function))
            throw new InvalidOperationException($"{field} must be an event object, null or an array of events, not {JsRows.Describe(value)}");
        var op = JsValues.Text(o.Get(Op));
        if (op != ChangeEventJson.OpName(e.Op))
            e.Op = op switch
            {
                "insert" => ChangeOperation.Insert,
                "update" => ChangeOperation.Update,
                "delete" => ChangeOperation.Delete,
                "read" => ChangeOperation.Read,
                _ => throw new InvalidOperationException($"{field}.op must be \"insert\", \"update\", \"delete\" or \"read\", not {(op is null ? "null" : $"\"{op}\"")}"),
            };
        e.Database = JsValues.Text(o.Get(Database)) ?? throw new InvalidOperationException($"{field}.database must be a string");
        e.Table = JsValues.Text(o.Get(Table)) ?? throw new InvalidOperationException($"{field}.table must be a string");
        e.Before = rows.FromJs(o.Get(Before), field, ".before");
        e.After = rows.FromJs(o.Get(After), field, ".after");
        e.Destination = JsValues.Text(o.Get(Destination));
        e.Key = JsValues.Text(o.Get(Key));
        if (e.HasExtra) e.Extra.Clear();
        foreach (var (name, extra) in rows.Own.Read(o, NotExtra))
            e.Extra[name] = JsValues.FromJs(extra);
    }

    /// <summary>Adds what <c>transform(event)</c> returned to <paramref name="output"/>: the event, none (null), each element of an array.</summary>
    public static void Emit(JsValue result, JsObject original, ChangeEvent e, JsRows rows, List<ChangeEvent> output)
    {
        if (result.IsNull()) return;
        if (result.IsUndefined())
        {
            FromJs(original, e, rows, "event");
            output.Add(e);
            return;
        }
        if (result is not JsArray array)
        {
            FromJs(result, e, rows, "the returned event");
            output.Add(e);
            return;
        }
        var length = array.Length;
        if (length > 100_000) throw new InvalidOperationException($"transform returned {length} events: at most 100000");
        // Copies of the event as read for every element but the first, taken before any element is read back.
        var items = new List<(JsValue Value, ChangeEvent Target)>((int)length);
        for (uint i = 0; i < length; i++)
        {
            var item = array.Get(i);
            if (item.IsNull() || item.IsUndefined()) continue;
            items.Add((item, items.Count == 0 ? e : e.Clone()));
        }
        for (var i = 0; i < items.Count; i++)
        {
            FromJs(items[i].Value, items[i].Target, rows, $"the returned array[{i}]");
            output.Add(items[i].Target);
        }
    }
}
