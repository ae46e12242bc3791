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
internal sealed class PrensioEvent(string pipeline)
{
    // Property names as JsString, made once: a string argument to Get would be wrapped anew on every call.
    private static readonly JsString Schema = new("schema"), Table = new("table"), ActionKey = new("action"), Before = new("before"), After = new("after"),
        Kafka = new("kafka"), Topic = new("topic"), Key = new("key");
    private static readonly JsString Insert = new("insert"), Update = new("update"), Delete = new("delete");

    private readonly JsString _pipeline = new(pipeline);

    // Property names in the order cdc_event, meta and kafka are built with (each straight into its shape after the first).
    private static readonly string[] CdcNames = ["schema", "table", "action", "before", "after", "meta", "kafka"], MetaNames = ["timestamp", "pipeline"],
        KafkaNames = ["topic", "key"];
    private readonly JsValue[] _values = new JsValue[7];
    private readonly List<KeyValuePair<string, JsValue>> _extras = new(4); // added fields read from a shaped cdc_event

    // The last timestamp as a JavaScript number: the events of one transaction share it.
    private long _micros = -1;
    private JsNumber? _microsJs;

    // The last event's table (its names are the reader's shared strings, so a reference check finds a repeat): its
    // names and default topic as JavaScript strings, made once per table instead of once per event.
    private string? _database, _table, _defaultTopic;
    private JsString? _databaseJs, _tableJs, _defaultTopicJs;

    // Action, default topic and default key are the sdk's (PrensioCdcEvent), shared with the Kafka sink's format: prensio.
    private static string Action(ChangeOperation op) => PrensioCdcEvent.Action(op);

    private static JsString ActionJs(ChangeOperation op) => op switch { ChangeOperation.Update => Update, ChangeOperation.Delete => Delete, _ => Insert };

    public static string DefaultTopic(ChangeEvent e) => PrensioCdcEvent.DefaultTopic(e);

    public static string DefaultKey(ChangeEvent e) => PrensioCdcEvent.Key(e, PrensioCdcEvent.DefaultTopic(e));

    /// <summary>The default topic of <paramref name="e"/> (<c>schema.table</c>), kept for the table's next events.</summary>
    public string CachedDefaultTopic(ChangeEvent e)
    {
        if (!ReferenceEquals(e.Database, _database) || !ReferenceEquals(e.Table, _table))
        {
            _database = e.Database;
            _table = e.Table;
            _databaseJs = new JsString(e.Database);
            _tableJs = new JsString(e.Table);
            _defaultTopic = PrensioCdcEvent.DefaultTopic(e);
            _defaultTopicJs = new JsString(_defaultTopic);
        }
        return _defaultTopic!;
    }

    /// <summary>The event as a <c>cdc_event</c> object.</summary>
    public JsObject ToJs(JsShapeCache shapes, ChangeEvent e, JsRows rows)
    {
        var engine = shapes.Engine;
        var defaultTopic = CachedDefaultTopic(e);
        var micros = PrensioCdcEvent.Microseconds(e.Timestamp);
        if (micros != _micros || _microsJs is null)
        {
            _micros = micros;
            _microsJs = JsNumber.Create(micros);
        }
        var v = _values;
        // An absent image is an empty array (not null): README scripts call cdc_event.after.forEach on deletes too.
        v[3] = e.Before is { } b ? new JsArray(engine, [rows.ToJs(shapes, b)]) : new JsArray(engine);
        v[4] = e.After is { } a ? new JsArray(engine, [rows.ToJs(shapes, a)]) : new JsArray(engine);
        v[0] = _microsJs;
        v[1] = _pipeline;
        v[5] = shapes.Build(ref shapes.Meta, MetaNames, v.AsSpan(0, 2));
        v[0] = e.Destination is { } destination ? new JsString(destination) : _defaultTopicJs!;
        v[1] = new JsString(e.Key ?? PrensioCdcEvent.Key(e, defaultTopic));
        v[6] = shapes.Build(ref shapes.Kafka, KafkaNames, v.AsSpan(0, 2));
        v[0] = _databaseJs!;
        v[1] = _tableJs!;
        v[2] = ActionJs(e.Op);
        var o = shapes.Build(ref shapes.Cdc, CdcNames, v);
        Array.Clear(v);
        if (e.HasExtra)
            foreach (var (name, value) in e.Extra)
                o.FastSetDataProperty(name, JsValues.ToJs(value));
        return o;
    }

    /// <summary>Reads what the rule left in <paramref name="o"/> back into <paramref name="e"/>.</summary>
    public void FromJs(JsShapeCache shapes, ObjectInstance o, ChangeEvent e, JsRows rows)
    {
        JsValue? schema = null, table = null, action = null, before = null, after = null, kafka = null;
        var shapedRead = false;
        _extras.Clear();
        if (o is JsObject shaped && JsShapes.Available && JsShapes.Of(shaped) is { } shape && JsShapes.TryKeys(shape, out var keys))
        {
            // Shaped (no property deleted, no accessor): its properties are its slots, in order; nothing runs on a read.
            shapedRead = true;
            for (var i = 0; i < keys!.Length; i++)
            {
                var value = JsShapes.Slot(shaped, i);
                switch (keys[i].AsString())
                {
                    case "schema": schema = value; break;
                    case "table": table = value; break;
                    case "action": action = value; break;
                    case "before": before = value; break;
                    case "after": after = value; break;
                    case "kafka": kafka = value; break;
                    case var name when !NotExtra(name): _extras.Add(new(name, value)); break;
                }
            }
        }
        // Otherwise (or a field missing) each is read where it is used, in this order, as o[name] (a getter runs then).
        schema ??= o.Get(Schema);
        if (!ReferenceEquals(schema, _databaseJs)) e.Database = RequiredText(schema, "cdc_event.schema");
        table ??= o.Get(Table);
        if (!ReferenceEquals(table, _tableJs)) e.Table = RequiredText(table, "cdc_event.table");
        action ??= o.Get(ActionKey);
        if (!ReferenceEquals(action, ActionJs(e.Op)))
        {
            var text = RequiredText(action, "cdc_event.action");
            if (text != Action(e.Op))
                e.Op = text switch
                {
                    "insert" => ChangeOperation.Insert,
                    "update" => ChangeOperation.Update,
                    "delete" => ChangeOperation.Delete,
                    _ => throw new InvalidOperationException($"cdc_event.action must be \"insert\", \"update\" or \"delete\", not \"{text}\""),
                };
        }
        e.Before = OneRow(before ?? o.Get(Before), "cdc_event.before", rows);
        e.After = OneRow(after ?? o.Get(After), "cdc_event.after", rows);
        kafka ??= o.Get(Kafka);
        if (kafka is ObjectInstance k && !kafka.IsNull())
        {
            // As built (the shape of kafka objects): topic and key are its two slots.
            var kafkaShape = JsShapeCache.ShapeOf(shapes.Kafka);
            var same = kafkaShape is not null && k is JsObject kj && ReferenceEquals(JsShapes.Of(kj), kafkaShape);
            e.Destination = JsValues.Text(same ? JsShapes.Slot((JsObject)k, 0) : k.Get(Topic)) ?? DefaultTopic(e);
            e.Key = JsValues.Text(same ? JsShapes.Slot((JsObject)k, 1) : k.Get(Key)) ?? DefaultKey(e);
        }
        else
        {
            e.Destination = DefaultTopic(e);
            e.Key = DefaultKey(e);
        }
        if (e.HasExtra) e.Extra.Clear();
        foreach (var (name, value) in shapedRead ? _extras : rows.Own.Read(o, NotExtra))
            e.Extra[name] = JsValues.FromJs(value);
        _extras.Clear();
    }
    private static readonly Func<string, bool> NotExtra = name =>
        name is "schema" or "table" or "action" or "before" or "after" or "meta" or "kafka" || ExtraFields.IsReserved(name);

    private static Row? OneRow(JsValue value, string field, JsRows rows)
    {
        if (value.IsNull() || value.IsUndefined()) return null;
        if (value is not JsArray array) throw new InvalidOperationException($"{field} must be an array of one row, or null, not {JsRows.Describe(value)}");
        return array.Length switch
        {
            0 => null,
            1 => rows.FromJs(array.Get(0), field, "[0]"),
            var n => throw new InvalidOperationException($"{field} has {n} rows: a cdc_event carries one row"),
        };
    }

    private static string RequiredText(JsValue value, string field) =>
        JsValues.Text(value) ?? throw new InvalidOperationException($"{field} must be a string, not {JsRows.Describe(value)}");
}
