using System.Text;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Cli;
using PluginHost.Schema;
using PluginHost.Sdk;
using PluginHost.Tests.Binlog.Decoding;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Sdk;

/// <summary>
/// One event JSON, two writers: the lines of <c>pluginhost decode</c>'s fast path (<see cref="DecodeCommand.Decode"/>,
/// straight from decoded column values) must equal, byte for byte, the lines sinks get (<see cref="ChangeEventFactory"/>
/// typed values written by <see cref="ChangeEventJson"/>) — for a binlog with every column type, NULLs, zero dates,
/// negative times, unicode, JSON, and FULL, MINIMAL and NOBLOB row images.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class EventJsonParityTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Database = "parity_json";

    [Fact]
    public void Decode_fast_path_and_sdk_events_write_identical_lines()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Database}; CREATE DATABASE {Database};");
        var first = db.FlushLogs();
        db.Sql(HandWrittenTable, Database);

        var w = new OracleWorkload(4711);
        db.Sql(string.Join("\n", w.Tables.Select(t => t.CreateSql)), Database);
        db.Sql(OracleWorkload.SessionPrelude("FULL") + string.Concat(w.Tables.Select(t => w.Inserts(t, 120))), Database);
        db.Sql(OracleWorkload.SessionPrelude("FULL") + string.Concat(w.Tables.Select(t => w.Changes(t, 40))), Database);
        db.Sql(OracleWorkload.SessionPrelude("MINIMAL") + string.Concat(w.Tables.Select(t => w.Changes(t, 20))), Database);
        db.Sql(OracleWorkload.SessionPrelude("NOBLOB") + string.Concat(w.Tables.Select(t => w.Changes(t, 20))), Database);
        db.FlushLogs();

        var files = db.BinlogFiles().SkipWhile(f => Path.GetFileName(f) != first).SkipLast(1).ToList();
        Assert.NotEmpty(files);
        var compared = 0;
        foreach (var file in files)
        {
            var fast = FastPath(file).Where(l => l.Contains($"\"database\":\"{Database}\"", StringComparison.Ordinal)).ToList();
            var typed = SdkPath(file).Where(l => l.Contains($"\"database\":\"{Database}\"", StringComparison.Ordinal)).ToList();
            Assert.Equal(fast.Count, typed.Count);
            var diffs = fast.Zip(typed).Select((p, i) => (p.First, p.Second, i)).Where(p => p.First != p.Second).ToList();
            foreach (var (f, t, i) in diffs.Take(5))
                output.WriteLine($"line {i}:\n  decode: {f}\n  sdk:    {t}\n  first difference at char {f.Zip(t).TakeWhile(c => c.First == c.Second).Count()}");
            Assert.True(diffs.Count == 0, $"{diffs.Count} of {fast.Count} lines of {Path.GetFileName(file)} differ (first ones in the test output)");
            compared += fast.Count;
        }
        output.WriteLine($"{compared} lines identical");
        Assert.True(compared > 1000, $"only {compared} lines compared");

        // The hand-written rows came through with the values the rules promise.
        var lines = files.SelectMany(FastPath).Where(l => l.Contains("\"table\":\"edge\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, lines.Count);
        var zero = ChangeEventJson.Parse(lines[1]).After!;
        Assert.Equal("0000-00-00", zero["d"]);
        Assert.Equal("0000-00-00 00:00:00.000", zero["dt3"]);
        Assert.Equal("0000-00-00 00:00:00", zero["ts"]);
        Assert.Equal("-838:59:59.000000", zero["t6"]);
        Assert.Equal("-00:00:00.500000", ChangeEventJson.Parse(lines[2]).After!["t6"]);
        var uni = ChangeEventJson.Parse(lines[0]).After!;
        Assert.Equal("Zoë 中文 😀 \"q\" \\ \n", uni["name"]);
        Assert.Equal("2026-11-21T10:00:00.123Z", uni["ts3"]);
        Assert.Equal("-12.3400", uni["amount"]);
        // Offline no schema says `j` is MariaDB JSON (LONGTEXT + json_valid): it stays the stored text. The live client
        // embeds it (MariaDbJsonTests).
        Assert.Equal("{\"a\": [1, \"é\"]}", uni["j"]);
        Assert.Null(ChangeEventJson.Parse(lines[3]).After!["name"]);
    }

    private const string HandWrittenTable = """
        SET SESSION sql_mode=''; SET SESSION time_zone='+00:00';
        CREATE TABLE edge (
          id INT PRIMARY KEY, name VARCHAR(50) CHARACTER SET utf8mb4, amount DECIMAL(12,4), d DATE, dt3 DATETIME(3), ts TIMESTAMP NULL DEFAULT NULL,
          ts3 TIMESTAMP(3) NULL DEFAULT NULL, t6 TIME(6), j JSON, b BINARY(4), bits BIT(10), e ENUM('x','y'), s SET('a','b','c'), y YEAR, f FLOAT, g DOUBLE,
          u BIGINT UNSIGNED, geo POINT);
        INSERT INTO edge VALUES (1, 'Zoë 中文 😀 "q" \\ \n', -12.34, '2026-11-21', '2026-11-21 10:00:00.5', '2026-11-21 10:00:00', '2026-11-21 10:00:00.123',
          '-01:02:03.000004', '{"a": [1, "é"]}', 'ab', b'1010101010', 'y', 'a,c', 2026, 1.5, -2.25e-300, 18446744073709551615, POINT(1, 2));
        INSERT INTO edge VALUES (2, '', 0, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '-838:59:59', 'null', '', 0, '', '', 0, 0, 0, 0, NULL);
        INSERT INTO edge VALUES (3, NULL, NULL, '2026-00-00', '2026-02-00 23:59:59.999', NULL, NULL, '-00:00:00.5', '[]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        UPDATE edge SET name = NULL, amount = 99999999.9999, t6 = '838:59:59.999999', j = '{"nested": {"k": [true, false, null]}}' WHERE id = 1;
        DELETE FROM edge WHERE id = 2;
        INSERT INTO edge (id) VALUES (4);
        """;

    /// <summary>The lines of <c>pluginhost decode FILE</c>.</summary>
    private static List<string> FastPath(string file)
    {
        var ms = new MemoryStream();
        DecodeCommand.Decode(file, ms);
        return Encoding.UTF8.GetString(ms.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>The same file through the sink path: ChangeEventFactory typed values, ChangeEventJson, with the same gtid/file/pos.</summary>
    private static List<string> SdkPath(string path)
    {
        var lines = new List<string>();
        var factory = new ChangeEventFactory();
        using var reader = new BinlogFileReader(path);
        var file = Path.GetFileName(path);
        string? gtid = null;
        void Rows(RowsEvent rows, long position)
        {
            var info = factory.TableInfoOf(rows.Table);
            foreach (var row in rows.Rows)
            {
                var e = factory.Create(rows, row, info);
                e.Gtid = gtid;
                e.File = file;
                e.Position = position;
                lines.Add(ChangeEventJson.Serialize(e));
            }
        }
        while (reader.ReadEvent() is { } ev)
        {
            switch (ev)
            {
                case MariaDbGtidEvent g: gtid = g.Gtid; break;
                case MySqlGtidEvent g: gtid = g.Gtid; break;
                case RotateEvent r when !r.IsArtificial: file = r.NextFile; break;
                case QueryEvent { IsBegin: false, IsCommit: false, IsRollback: false }: factory.Invalidate(); break;
                case TransactionPayloadEvent p:
                    foreach (var inner in p.Events)
                        if (inner is RowsEvent ir) Rows(ir, p.Header.Position);
                    break;
                case RowsEvent rows: Rows(rows, rows.Header.Position); break;
            }
        }
        return lines;
    }
}
