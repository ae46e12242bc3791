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

    // meta and kafka built straight into one hidden class each (property order as before);
    // cdc_event itself from entries: a script adding a field (cdc_event.ext = 1) keeps it shaped.
    private static readonly JsObjectLayout MetaLayout = new("timestamp", "pipeline"), KafkaLayout = new("topic", "key");
    private readonly KeyValuePair<string, JsValue>[] _entries = new KeyValuePair<string, JsValue>[7];

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
    public JsObject ToJs(Engine engine, ChangeEvent e, JsRows rows)
    {
        var defaultTopic = CachedDefaultTopic(e);
        // An absent image is an empty array (not null): README scripts call cdc_event.after.forEach on deletes too.
        var before = e.Before is { } b ? new JsArray(engine, [rows.ToJs(engine, b)]) : new JsArray(engine);
        var after = e.After is { } a ? new JsArray(engine, [rows.ToJs(engine, a)]) : new JsArray(engine);
        var meta = JsObject.Create(engine, MetaLayout, [JsNumber.Create(PrensioCdcEvent.Microseconds(e.Timestamp)), _pipeline]);
        var kafka = JsObject.Create(engine, KafkaLayout,
            [e.Destination is { } destination ? new JsString(destination) : _defaultTopicJs!, new JsString(e.Key ?? PrensioCdcEvent.Key(e, defaultTopic))]);
        _entries[0] = new("schema", _databaseJs!);
        _entries[1] = new("table", _tableJs!);
        _entries[2] = new("action", ActionJs(e.Op));
        _entries[3] = new("before", before);
        _entries[4] = new("after", after);
        _entries[5] = new("meta", meta);
        _entries[6] = new("kafka", kafka);
        var o = JsRows.Build(engine, _entries);
        Array.Clear(_entries);
        if (e.HasExtra)
            foreach (var (name, value) in e.Extra)
                o.FastSetDataProperty(name, JsValues.ToJs(value));
        return o;
    }

    /// <summary>Reads what the rule left in <paramref name="o"/> back into <paramref name="e"/>.</summary>
    public void FromJs(ObjectInstance o, ChangeEvent e, JsRows rows)
    {
        var schema = o.Get(Schema);
        if (!ReferenceEquals(schema, _databaseJs)) e.Database = RequiredText(schema, "cdc_event.schema");
        var table = o.Get(Table);
        if (!ReferenceEquals(table, _tableJs)) e.Table = RequiredText(table, "cdc_event.table");
        var actionJs = o.Get(ActionKey);
        if (!ReferenceEquals(actionJs, ActionJs(e.Op)))
        {
            var action = RequiredText(actionJs, "cdc_event.action");
            if (action != Action(e.Op))
                e.Op = action switch
                {
                    "insert" => ChangeOperation.Insert,
                    "update" => ChangeOperation.Update,
                    "delete" => ChangeOperation.Delete,
                    _ => throw new InvalidOperationException($"cdc_event.action must be \"insert\", \"update\" or \"delete\", not \"{action}\""),
                };
        }
        e.Before = OneRow(o.Get(Before), "cdc_event.before", rows);
        e.After = OneRow(o.Get(After), "cdc_event.after", rows);
        var kafka = o.Get(Kafka);
        if (kafka is ObjectInstance k && !kafka.IsNull())
        {
            e.Destination = JsValues.Text(k.Get(Topic)) ?? DefaultTopic(e);
            e.Key = JsValues.Text(k.Get(Key)) ?? DefaultKey(e);
        }
        else
        {
            e.Destination = DefaultTopic(e);
            e.Key = DefaultKey(e);
        }
        if (e.HasExtra) e.Extra.Clear();
        foreach (var (name, value) in rows.Own.Read(o, NotExtra))
            e.Extra[name] = JsValues.FromJs(value);
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
