using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;

namespace PluginHost.Tests.Webhook;

/// <summary>Synthetic events and sinks for tests that drive the webhook sink directly.</summary>
internal static class WebhookEvents
{
    public static ChangeEvent Row(string table, ChangeOperation op, long id, long version, string database = "shop", string? tx = null, int index = 0)
    {
        var schema = new TableInfo(database, table, [new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("v", ColumnKind.Integer), new ColumnInfo("name", ColumnKind.Text)]);
        Row Image(long v) => new() { ["id"] = id, ["v"] = v, ["name"] = $"row {id}" };
        return new ChangeEvent
        {
            Op = op,
            Database = database,
            Table = table,
            Schema = schema,
            Before = op == ChangeOperation.Insert ? null : Image(op == ChangeOperation.Update ? version - 1 : version),
            After = op == ChangeOperation.Delete ? null : Image(version),
            Gtid = tx ?? $"0-1-{id * 1000 + version}",
            File = "mysql-bin.000001",
            Position = 4 + id * 1000 + version,
            Timestamp = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero),
            TransactionId = tx ?? $"0-1-{id * 1000 + version}",
            IndexInTransaction = index,
        };
    }

    /// <summary>
    /// A change history of <paramref name="rows"/> rows: insert v0, then <paramref name="updates"/> updates each,
    /// interleaved across rows (round-robin), optionally ending with deletes. Returns events in commit order.
    /// </summary>
    public static List<ChangeEvent> History(string table, int rows, int updates, bool deletes = false, string database = "shop")
    {
        var list = new List<ChangeEvent>();
        for (var id = 1; id <= rows; id++) list.Add(Row(table, ChangeOperation.Insert, id, 0, database));
        for (var v = 1; v <= updates; v++)
        for (var id = 1; id <= rows; id++)
            list.Add(Row(table, ChangeOperation.Update, id, v, database));
        if (deletes)
            for (var id = 1; id <= rows; id++) list.Add(Row(table, ChangeOperation.Delete, id, updates, database));
        return list;
    }

    /// <summary>What a row went through, as "i0", "u1", …, "d" (from the event JSON or pikachu's payload).</summary>
    public static string Step(JsonObject e)
    {
        if (e["op"] is { } op)
        {
            var kind = op.GetValue<string>();
            var image = (kind == "delete" ? e["before"] : e["after"])!;
            return kind == "delete" ? "d" : kind[0] + image["v"]!.ToJsonString();
        }
        var ev = e["event"]!.GetValue<string>();
        return ev switch
        {
            "delete" => "d",
            "insert" => "i" + e["data"]!["v"]!.ToJsonString(),
            _ => "u" + e["new_data"]!["v"]!.ToJsonString(),
        };
    }

    public static long Id(JsonObject e) =>
        e["op"] is { } op
            ? ((op.GetValue<string>() == "delete" ? e["before"] : e["after"])!["id"]!).GetValue<long>()
            : e["primary_id"]!.GetValue<long>();

    /// <summary>Per row id, the steps in the order the receiver accepted them.</summary>
    public static Dictionary<long, List<string>> ByRow(IEnumerable<JsonObject> events)
    {
        var d = new Dictionary<long, List<string>>();
        foreach (var e in events)
        {
            var id = Id(e);
            if (!d.TryGetValue(id, out var l)) d[id] = l = [];
            l.Add(Step(e));
        }
        return d;
    }

    public static Dictionary<long, List<string>> Expected(IEnumerable<ChangeEvent> events) =>
        ByRow(events.Select(e => (JsonObject)JsonNode.Parse(ChangeEventJson.Serialize(e))!));

    /// <summary>A webhook sink from a settings object (as YAML would give it).</summary>
    public static WebhookSink Sink(JsonObject settings, IPluginLogger log, string? baseDirectory = null, string pipeline = "test")
    {
        settings["type"] ??= "webhook";
        using var doc = JsonDocument.Parse(settings.ToJsonString());
        return (WebhookSink)new WebhookSinkFactory().Create(new SinkContext(pipeline, doc.RootElement.Clone(), log, baseDirectory ?? Path.GetTempPath()));
    }

    public static void AssertSameHistories(Dictionary<long, List<string>> expected, Dictionary<long, List<string>> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (id, steps) in expected)
        {
            Assert.True(actual.TryGetValue(id, out var got), $"row {id}: nothing received");
            Assert.True(steps.SequenceEqual(got!), $"row {id}: expected {string.Join(" ", steps)}, received {string.Join(" ", got!)}");
        }
    }
}
