using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.History;
using PluginHost.Binlog.Replication;
using PluginHost.Schema;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Schema;

/// <summary>The history file: rebuilt up to the checkpoint (later lines dropped), compacted, torn and corrupt lines.</summary>
public sealed class SchemaHistoryFileTests : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-schema-file-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static BinlogPosition At(long pos) => new("mysql-bin.000002", pos);

    private PipelineSchemaHistory Keeper(string path) => new("p", new SchemaHistoryFile(path), (d, _) => d == "m", NullLogger.Instance);

    [Fact]
    public void A_run_sees_the_history_as_of_its_checkpoint_and_the_file_is_compacted_to_it()
    {
        var path = Path.Combine(_dir, "p.schema-history.jsonl");
        var first = Keeper(path).Open(null);
        first.RecordBaseline([], new Dictionary<string, int> { ["m"] = 45 }, At(100));
        first.ApplyStatement("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), b INT)", "m", At(200));
        first.ApplyStatement("ALTER TABLE t ADD COLUMN c INT", "m", At(300));
        first.ApplyStatement("ALTER TABLE t DROP COLUMN a", "m", At(400));
        Assert.Equal(4, File.ReadAllLines(path).Length); // database m, then one line per statement

        // The checkpoint is between the two ALTERs: the DROP is read again from the binlog, so it is not applied.
        var keeper = Keeper(path);
        var second = keeper.Open(At(350));
        Assert.Equal(["id", "a", "b", "c"], second.Find("m", "t").Schema!.Columns.Select(c => c.Name));
        Assert.Equal(At(300), second.Position);
        Assert.Equal(2, File.ReadAllLines(path).Length); // database m, table t
        Assert.False(second.ApplyStatement("ALTER TABLE t ADD COLUMN c INT", "m", At(300))); // at or before: already in it
        Assert.True(second.ApplyStatement("ALTER TABLE t DROP COLUMN a", "m", At(400)));
        Assert.Equal(["id", "b", "c"], Keeper(path).Open(At(400)).Find("m", "t").Schema!.Columns.Select(c => c.Name));

        // A checkpoint before everything: nothing applies, the next run records a baseline.
        Assert.False(Keeper(path).Open(At(50)).HasBaseline);
        Assert.Empty(File.ReadAllLines(path));
    }

    [Fact]
    public void A_torn_last_line_is_ignored_and_a_corrupt_line_is_an_error_naming_file_and_line()
    {
        var path = Path.Combine(_dir, "q.schema-history.jsonl");
        var history = Keeper(path).Open(null);
        history.RecordBaseline([], new Dictionary<string, int> { ["m"] = 45 }, At(100));
        history.ApplyStatement("CREATE TABLE t (id INT PRIMARY KEY)", "m", At(200));
        File.AppendAllText(path, "{\"file\":\"mysql-bin.000002\",\"pos\":300,\"db\":\"m\",\"ta");
        Assert.Equal(["id"], Keeper(path).Open(At(500)).Find("m", "t").Schema!.Columns.Select(c => c.Name));

        File.WriteAllText(path, "{\"file\":\"mysql-bin.000002\",\"pos\":100,\"kind\":\"table\",\"db\":\"m\",\"table\":\"t\"}\n{}\n");
        var e = Assert.Throws<InvalidDataException>(() => Keeper(path).Open(At(500)));
        Assert.Contains(path, e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("'columns' is missing", e.Message);
    }

    [Fact]
    public void An_unreadable_statement_makes_the_table_uncertain_and_create_table_makes_it_known()
    {
        var history = Keeper(Path.Combine(_dir, "r.schema-history.jsonl")).Open(null);
        history.RecordBaseline([], new Dictionary<string, int>(), At(100));
        history.ApplyStatement("CREATE TABLE m.t (id INT)", "other", At(200));
        history.ApplyStatement("ALTER TABLE m.t ADD SYSTEM VERSIONING", "other", At(300));
        Assert.Equal(SchemaHistoryState.Uncertain, history.Find("m", "t").State);
        Assert.Equal(1, history.UncertainCount);
        history.ApplyStatement("ALTER TABLE t DROP COLUMN nope", "m", At(310)); // stays uncertain (no second warning)
        history.ApplyStatement("CREATE TABLE `m`.`t` (id INT, `x y` TEXT)", "other", At(400));
        Assert.Equal(["id", "x y"], history.Find("m", "t").Schema!.Columns.Select(c => c.Name));
        Assert.Equal(0, history.UncertainCount);
        Assert.Equal(SchemaHistoryState.Untracked, history.Find("n", "t").State);
    }

    [Fact]
    public void Lines_are_written_byte_for_byte_as_the_serializer_wrote_them_and_read_back()
    {
        var columns = new[]
        {
            new SchemaColumn("id", "int", true, 0, null),
            new SchemaColumn("näme \"q\" <x>", "varchar", false, 224, null),
            new SchemaColumn("e", "enum", false, 45, ["a", "b c", "\"é\"\u2028", ""]),
            new SchemaColumn("ts", "timestamp", false, 0, null, 6),
            new SchemaColumn("j", "longtext", false, 46, null, 0, true),
        };
        var entries = new List<SchemaHistoryEntry>
        {
            new(new BinlogPosition("mysql-bin.000002", 100, "0-1-12"), SchemaHistoryEntryKind.Database, "m", "", Collation: 45),
            new(new BinlogPosition("mysql-bin.000002", 100), SchemaHistoryEntryKind.Table, "m", "t ü", new TableSchema("m", "t ü", columns, [0, 2], 224)),
            new(new BinlogPosition("mysql-bin.000002", 0), SchemaHistoryEntryKind.Table, "m", "empty", new TableSchema("m", "empty", [], [])),
            new(new BinlogPosition("", 300), SchemaHistoryEntryKind.Uncertain, "m", "u", Reason: "ALTER … 'x' \\ \n"),
            new(new BinlogPosition("mysql-bin.000003", 4), SchemaHistoryEntryKind.Dropped, "m", "t ü"),
        };
        var path = Path.Combine(_dir, "w.schema-history.jsonl");
        var file = new SchemaHistoryFile(path);
        file.Write(entries);
        var expected = string.Concat(entries.Select(e => JsonSerializer.Serialize(OldLine.Of(e), OldJson) + "\n"));
        Assert.Equal(expected, File.ReadAllText(path));
        Assert.Equal(entries.Select(Describe), file.Read().Select(Describe));
    }

    private static string Describe(SchemaHistoryEntry e) =>
        $"{e.Position} {e.Kind} {e.Database}.{e.Table} {e.Reason} {e.Collation} {e.Schema?.DefaultCollation} " +
        string.Join("|", e.Schema?.Columns.Select(c => $"{c} {string.Join(",", c.Labels ?? [])}") ?? []) + " " + string.Join(",", e.Schema?.PrimaryKey ?? []);

    // The file's lines as the serializer wrote them before (SchemaHistoryFile's Line and options, copied).
    private static readonly JsonSerializerOptions OldJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private sealed record OldLine(string File, long Pos, string? Gtid, SchemaHistoryEntryKind Kind, string Db, string? Table,
        int Collation, List<OldColumn>? Columns, int[]? Pk, string? Reason)
    {
        public static OldLine Of(SchemaHistoryEntry e) => new(e.Position.File, e.Position.Position, e.Position.Gtid, e.Kind, e.Database,
            e.Table.Length == 0 ? null : e.Table, e.Schema?.DefaultCollation ?? e.Collation,
            e.Schema?.Columns.Select(c => new OldColumn(c.Name, c.DataType, c.IsUnsigned, c.Collation, c.Labels, c.FractionalDigits, c.IsJson)).ToList(),
            e.Schema?.PrimaryKey.ToArray(), e.Reason);
    }

    private sealed record OldColumn(string Name, string Type, bool Unsigned, int Collation, string[]? Labels, int Fsp, bool Json);
}
