using System.Globalization;
using System.Text;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Snapshots;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// The snapshot's fast path — rows written as JSON lines straight from the server's text (no transform, the file sink) —
/// writes exactly the bytes of the normal path (the sdk events the chunk reader makes, through the file sink), for every
/// column type and for thousands of random values of the types it copies from the text.
/// </summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class SnapshotRowJsonTests(MariaDbServer db) : IDisposable
{
    private const string Db = "snap_rowjson";
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-rowjson-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Every_column_type_gives_the_same_lines_raw_as_through_events()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; USE {Db}; {SnapshotValueTests.Table}");
        db.Sql($"USE {Db}; SET sql_mode = ''; SET time_zone = '+03:00'; SET NAMES utf8mb4;\n" +
               string.Concat(SnapshotValueTests.Rows.Select(r => $"INSERT INTO every VALUES {r};\n")));
        var lines = await CompareAsync("every", SnapshotValueTests.Rows.Length);
        Assert.Contains("\"tiu\":2,", lines[1], StringComparison.Ordinal); // (the rows were written, values and all)
    }

    [Fact]
    public async Task Random_values_of_the_copied_types_give_the_same_lines_raw_as_through_events()
    {
        db.Sql($"""
            DROP DATABASE IF EXISTS {Db}2; CREATE DATABASE {Db}2; USE {Db}2;
            CREATE TABLE tricky (
              id INT NOT NULL PRIMARY KEY, i INT, bu BIGINT UNSIGNED, z INT(6) ZEROFILL, y YEAR,
              d DECIMAL(10,3), d0 DECIMAL(12,0), dw DECIMAL(40,7),
              s VARCHAR(200), l VARCHAR(200) CHARACTER SET latin1, a VARCHAR(50) CHARACTER SET ascii, e ENUM('ä','b c','"q"'),
              dt DATE, dtm DATETIME, dtm2 DATETIME(2), ts TIMESTAMP NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL
            ) DEFAULT CHARSET utf8mb4;
            """);
        var random = new Random(16);
        const int Count = 3000;
        var sql = new StringBuilder($"USE {Db}2; SET sql_mode = 'ALLOW_INVALID_DATES'; SET time_zone = '+00:00'; SET NAMES utf8mb4;\n");
        for (var id = 1; id <= Count; id += 100)
        {
            sql.Append("INSERT INTO tricky VALUES ");
            for (var k = id; k < id + 100; k++) sql.Append(k > id ? ",\n" : "").Append(RandomRow(random, k));
            sql.Append(";\n");
        }
        db.Sql(sql.ToString());
        await CompareAsync("tricky", Count, Db + "2", everyColumnCopied: true);
    }

    /// <summary>Reads the table raw, writes it through the file sink both ways, compares the files; returns the lines.</summary>
    private async Task<string[]> CompareAsync(string tableName, int rows, string database = Db, bool everyColumnCopied = false)
    {
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        var table = await reader.DescribeAsync(database, tableName);
        var (raw, result) = await reader.ReadRowsAsync(table, null, null, 100_000);
        Assert.Equal(rows, raw.Count);
        Assert.True(result.IsExhausted);
        if (everyColumnCopied) Assert.All(SnapshotRowJson.Plans(raw), plan => Assert.NotEqual(0, plan)); // (no column only through events)
        // The chunk read the old way (events made as the rows arrive), placed where the reader places chunks.
        var old = await reader.ReadChunkAsync(table, null, null, 100_000);
        foreach (var e in old.Events)
        {
            e.File = "mysql-bin.000042";
            e.Position = 1234;
            e.TransactionId = "snapshot:x:0";
            e.Timestamp = raw.Timestamp; // each read stamps its second: the two reads may straddle one (a CI run did)
        }

        var slice = new SnapshotSlice(raw, null, 0, raw.Count, "mysql-bin.000042", 1234, "snapshot:x:0");
        Assert.True(slice.CanWriteLines);
        var events = new List<ChangeEvent>();
        slice.AddEvents(events);
        string eventsPath = Path.Combine(_dir, tableName + ".events.jsonl"), oldPath = Path.Combine(_dir, tableName + ".old.jsonl"),
            linesPath = Path.Combine(_dir, tableName + ".lines.jsonl");
        await using (var sink = new FileSink(eventsPath, fsync: false)) await sink.SendAsync(events, default);
        await using (var sink = new FileSink(oldPath, fsync: false)) await sink.SendAsync(old.Events, default);
        await using (var sink = new FileSink(linesPath, fsync: false))
        {
            // In parts, as the pipeline's writer hands them over (batch_size inside a slice).
            var part = raw.Count / 3;
            await sink.SendLinesAsync(slice.Lines(0, part), default);
            await sink.SendLinesAsync(slice.Lines(part, raw.Count - part), default);
        }
        var expected = File.ReadAllLines(eventsPath);
        Assert.Equal(File.ReadAllLines(oldPath), expected); // the raw rows make the events the reader made
        var actual = File.ReadAllLines(linesPath);
        Assert.Equal(expected.Length, actual.Length);
        var failures = expected.Zip(actual).Where(p => p.First != p.Second).Take(5).Select(p => $"expected {p.First}\n  actual {p.Second}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(File.ReadAllBytes(eventsPath), File.ReadAllBytes(linesPath));
        return actual;
    }

    private static string RandomRow(Random r, int id)
    {
        string Maybe(string value) => r.Next(12) == 0 ? "NULL" : value;
        string Int() => r.Next(6) switch { 0 => "0", 1 => "-1", 2 => int.MinValue.ToString(CultureInfo.InvariantCulture), 3 => int.MaxValue.ToString(CultureInfo.InvariantCulture), _ => r.Next(-100000, 100000).ToString(CultureInfo.InvariantCulture) };
        string Decimal(int whole, int scale)
        {
            var sign = r.Next(3) == 0 ? "-" : "";
            var w = r.Next(4) == 0 ? "0" : string.Concat(Enumerable.Range(0, r.Next(1, whole + 1)).Select(_ => (char)('0' + r.Next(10))));
            var f = scale == 0 ? "" : "." + string.Concat(Enumerable.Range(0, r.Next(0, scale + 1)).Select(_ => (char)('0' + r.Next(10))));
            return $"'{sign}{w}{(f == "." ? "" : f)}'";
        }
        string Text(string[] alphabet, int max) => "'" + string.Concat(Enumerable.Range(0, r.Next(0, max)).Select(_ => alphabet[r.Next(alphabet.Length)])) + "'";
        string[] unicode = ["a", "Z", " ", "\\\"", "\\'", "\\\\", "\\n", "\\t", "\\r", "\\0", "\u0001", "\u001f", "\u007f", "<", ">", "&", "+", "`", "é", "ß", "€", "中", "😀", "𝄞", "\u2028", "\u2029", "\u0301", "\ufeff", "\ufffd", "/"];
        string[] latin = ["a", "Q", " ", "\\\"", "\\\\", "\\n", "\u0001", "<", "&", "é", "ÿ", "£", "~"];
        string[] ascii = ["a", "0", " ", "\\\"", "\\\\", "\\t", "\u0002", "<", "\\'", "~", "}"];
        string Date() => r.Next(10) == 0 ? "'0000-00-00'" : r.Next(10) == 0 ? "'2024-02-30'" : $"'{r.Next(1000, 10000):D4}-{r.Next(1, 13):D2}-{r.Next(1, 29):D2}'";
        string Time(int digits) => $"{r.Next(24):D2}:{r.Next(60):D2}:{r.Next(60):D2}" + (digits > 0 ? "." + r.Next((int)Math.Pow(10, digits)).ToString("D" + digits, CultureInfo.InvariantCulture) : "");
        string DateTime(int digits) => r.Next(10) == 0 ? "'0000-00-00 00:00:00'" : $"'{Date().Trim('\'')} {Time(digits)}'";
        string Timestamp(int digits) => r.Next(10) == 0 ? "'0000-00-00 00:00:00'"
            : $"'{r.Next(1970, 2038)}-{r.Next(1, 13):D2}-{r.Next(1, 29):D2} {Time(digits)}'".Replace("'1970-01-01 00:", "'1970-01-02 00:", StringComparison.Ordinal);
        return $"({id}, {Maybe(Int())}, {Maybe(r.Next(3) == 0 ? "18446744073709551615" : ((ulong)r.NextInt64()).ToString(CultureInfo.InvariantCulture))}, " +
               $"{Maybe(r.Next(1000).ToString(CultureInfo.InvariantCulture))}, {Maybe(r.Next(5) == 0 ? "0" : r.Next(1901, 2156).ToString(CultureInfo.InvariantCulture))}, " +
               $"{Maybe(Decimal(7, 3))}, {Maybe(Decimal(12, 0))}, {Maybe(Decimal(33, 7))}, " +
               $"{Maybe(Text(unicode, 40))}, {Maybe(Text(latin, 40))}, {Maybe(Text(ascii, 30))}, {Maybe(r.Next(4) switch { 0 => "'ä'", 1 => "'b c'", 2 => "'\"q\"'", _ => "''" })}, " +
               $"{Maybe(Date())}, {Maybe(DateTime(0))}, {Maybe(DateTime(2))}, {Maybe(Timestamp(0))}, {Maybe(Timestamp(4))})";
    }
}
