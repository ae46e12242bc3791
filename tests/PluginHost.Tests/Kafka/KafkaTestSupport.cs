using System.Text.Json;
using PluginHost.Sdk;

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
        new(pipeline, Json(json), logger ?? new ListLogger(), AppContext.BaseDirectory);

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

/// <summary>An <see cref="IPluginLogger"/> that keeps the lines (and echoes them to the test output stream).</summary>
internal sealed class ListLogger : IPluginLogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    public void Info(string message) => Add("info: " + message);
    public void Warning(string message) => Add("warn: " + message);
    public void Error(string message, Exception? exception = null) => Add("error: " + message + (exception is null ? "" : " " + exception.Message));

    private void Add(string line)
    {
        lock (_lines) _lines.Add(line);
    }
}
