using Jint;
using Jint.Native;
using Jint.Native.Object;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// go-mysql-kafka's (prensio's) <c>cdc_event</c>: built from an event for a rule, and read back into it after the rule
/// ran (schema, table, action, the rows, <c>kafka.topic</c> → <see cref="ChangeEvent.Destination"/>, <c>kafka.key</c> →
/// <see cref="ChangeEvent.Key"/>, added fields → <see cref="ChangeEvent.Extra"/>).
/// </summary>
internal static class PrensioEvent
{
    private static readonly HashSet<string> OwnFields = ["schema", "table", "action", "before", "after", "meta", "kafka"];

    // Action, default topic and default key are the sdk's (PrensioCdcEvent), shared with the Kafka sink's format: prensio.
    private static string Action(ChangeOperation op) => PrensioCdcEvent.Action(op);

    public static string DefaultTopic(ChangeEvent e) => PrensioCdcEvent.DefaultTopic(e);

    public static string DefaultKey(ChangeEvent e) => PrensioCdcEvent.Key(e, PrensioCdcEvent.DefaultTopic(e));

    /// <summary>The event as a <c>cdc_event</c> object.</summary>
    public static JsObject ToJs(Engine engine, ChangeEvent e, string pipeline, JsRows rows)
    {
        var o = new JsObject(engine);
        o.FastSetDataProperty("schema", new JsString(e.Database));
        o.FastSetDataProperty("table", new JsString(e.Table));
        o.FastSetDataProperty("action", new JsString(Action(e.Op)));
        // An absent image is an empty array (not null): README scripts call cdc_event.after.forEach on deletes too.
        o.FastSetDataProperty("before", e.Before is { } b ? new JsArray(engine, [rows.ToJs(engine, b)]) : new JsArray(engine));
        o.FastSetDataProperty("after", e.After is { } a ? new JsArray(engine, [rows.ToJs(engine, a)]) : new JsArray(engine));
        var meta = new JsObject(engine);
        meta.FastSetDataProperty("timestamp", JsNumber.Create((e.Timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10));
        meta.FastSetDataProperty("pipeline", new JsString(pipeline));
        o.FastSetDataProperty("meta", meta);
        var kafka = new JsObject(engine);
        kafka.FastSetDataProperty("topic", new JsString(e.Destination ?? DefaultTopic(e)));
        kafka.FastSetDataProperty("key", new JsString(e.Key ?? DefaultKey(e)));
        o.FastSetDataProperty("kafka", kafka);
        if (e.HasExtra)
            foreach (var (name, value) in e.Extra)
                o.FastSetDataProperty(name, JsValues.ToJs(value));
        return o;
    }

    /// <summary>Reads what the rule left in <paramref name="o"/> back into <paramref name="e"/>.</summary>
    public static void FromJs(ObjectInstance o, ChangeEvent e, JsRows rows)
    {
        e.Database = RequiredText(o.Get("schema"), "cdc_event.schema");
        e.Table = RequiredText(o.Get("table"), "cdc_event.table");
        var action = RequiredText(o.Get("action"), "cdc_event.action");
        if (action != Action(e.Op))
            e.Op = action switch
            {
                "insert" => ChangeOperation.Insert,
                "update" => ChangeOperation.Update,
                "delete" => ChangeOperation.Delete,
                _ => throw new InvalidOperationException($"cdc_event.action must be \"insert\", \"update\" or \"delete\", not \"{action}\""),
            };
        e.Before = OneRow(o.Get("before"), "cdc_event.before", rows);
        e.After = OneRow(o.Get("after"), "cdc_event.after", rows);
        var kafka = o.Get("kafka");
        if (kafka is ObjectInstance k && !kafka.IsNull())
        {
            e.Destination = JsValues.Text(k.Get("topic")) ?? DefaultTopic(e);
            e.Key = JsValues.Text(k.Get("key")) ?? DefaultKey(e);
        }
        else
        {
            e.Destination = DefaultTopic(e);
            e.Key = DefaultKey(e);
        }
        if (e.HasExtra) e.Extra.Clear();
        foreach (var (key, _) in o.GetOwnProperties())
        {
            if (!key.IsString()) continue;
            var name = key.AsString();
            if (OwnFields.Contains(name) || ExtraFields.IsReserved(name)) continue;
            e.Extra[name] = JsValues.FromJs(o.Get(key));
        }
    }

    private static Row? OneRow(JsValue value, string field, JsRows rows)
    {
        if (value.IsNull() || value.IsUndefined()) return null;
        if (value is not JsArray array) throw new InvalidOperationException($"{field} must be an array of one row, or null, not {JsRows.Describe(value)}");
        return array.Length switch
        {
            0 => null,
            1 => rows.FromJs(array.Get(0), field + "[0]"),
            var n => throw new InvalidOperationException($"{field} has {n} rows: a cdc_event carries one row"),
        };
    }

    private static string RequiredText(JsValue value, string field) =>
        JsValues.Text(value) ?? throw new InvalidOperationException($"{field} must be a string, not {JsRows.Describe(value)}");
}
