using System.Text.Json;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Kafka;

/// <summary>Builds sinks, contexts and events for the Kafka tests.</summary>
internal static class KafkaTestSupport
{
    public static readonly TableInfo Users = new("shop", "users",
    [
        new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true),
        new ColumnInfo("name", ColumnKind.Text),
        new ColumnInfo("n", ColumnKind.Integer),
    ]);

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static SinkContext SinkContext(string json, string pipeline = "test", IPluginLogger? logger = null) =>
        new(pipeline, Json(json), logger ?? new RecordingLogger(), AppContext.BaseDirectory);

    public static ChangeEvent Event(ChangeOperation op, long id, string name, long n, TableInfo? table = null, string? gtid = "0-1-1", long pos = 100)
    {
        table ??= Users;
        var row = new Row { ["id"] = id, ["name"] = name, ["n"] = n };
        return new ChangeEvent
        {
            Op = op,
            Database = table.Database,
            Table = table.Table,
            Schema = table,
            Before = op == ChangeOperation.Insert ? null : row.Clone(),
            After = op == ChangeOperation.Delete ? null : row,
            Gtid = gtid,
            File = "mysql-bin.000001",
            Position = pos,
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_790_000_000),
            TransactionId = gtid,
        };
    }
}
