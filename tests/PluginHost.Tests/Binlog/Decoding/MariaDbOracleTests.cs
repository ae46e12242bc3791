using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Binlog.Values;
using PluginHost.Cli;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// The decoder proven against independent oracles on a real MariaDB: random tables of every column type get
/// thousands of random inserts/updates/deletes (FULL, MINIMAL and NOBLOB row images; FULL, MINIMAL and NO_LOG
/// table-map metadata; old and "hires" temporal formats). Then
/// (1) every value of every row, decoded from the files and streamed live, is compared with MariaDB's own
/// mariadb-binlog, byte for byte (MariaDB JSON, which the live client embeds, as JSON);
/// (2) the binlog is replayed and the tables' contents, printed by the event-JSON rules, are compared with SELECT;
/// (3) the same through <c>pluginhost decode</c>'s JSON lines.
/// The seed is fixed (override with PLUGINHOST_ORACLE_SEED) and printed.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MariaDbOracleTests(MariaDbServer db, ITestOutputHelper output)
{
    private OracleRun Run
    {
        get
        {
            var run = OracleRun.Shared(db);
            output.WriteLine(run.Summary);
            return run;
        }
    }

    [Fact]
    public void Every_value_of_every_row_matches_mariadb_binlog()
    {
        var run = Run;
        var sw = Stopwatch.StartNew();
        long rows = 0, values = 0;
        foreach (var file in run.SegmentA.Concat(run.SegmentB))
        {
            var (r, v) = AssertSameAsOracle(run, Path.GetFileName(file), MariaDbBinlogOracle.Rows(file), BinlogRenderer.DecodeFile(file));
            rows += r;
            values += v;
        }
        output.WriteLine($"mariadb-binlog comparison: {rows} rows, {values} values identical ({sw.ElapsedMilliseconds} ms)");
        Assert.True(rows > 3000, $"only {rows} rows");
    }

    /// <summary>
    /// The live half: the same binlogs streamed by <see cref="BinlogClient"/> from the workload's first file to the end
    /// of segment B (information_schema fills in the maps without metadata and marks the JSON columns), compared with
    /// mariadb-binlog value for value like the file half; MariaDB JSON, embedded live, is compared as JSON.
    /// </summary>
    [Fact]
    public async Task Every_value_streamed_live_matches_mariadb_binlog()
    {
        var run = Run;
        var files = run.SegmentA.Concat(run.SegmentB).ToList();
        var oracle = files.SelectMany(MariaDbBinlogOracle.Rows).ToList();
        var end = Path.GetFileName(run.SegmentC[0]);

        var ours = new List<OracleRow>();
        var start = BinlogStart.At(Path.GetFileName(files[0]), 4);
        await using (var reader = new Reader(new BinlogClient(Repl.Options(db, start, output)), deadline: TimeSpan.FromMinutes(5)))
        {
            while (await reader.NextAsync() is var e && !(e is RotateEvent { IsArtificial: false } r && r.NextFile == end))
            {
                if (e is RowsEvent re) BinlogRenderer.AddRows(ours, re, $"live {reader.Client.CurrentFile}");
                reader.Seen.Clear(); // the stream is long: keep only what is compared
                reader.SeenIn.Clear();
            }
            Assert.Equal(0, reader.Client.Reconnects);
        }

        var (rows, values) = AssertSameAsOracle(run, $"live stream of {string.Join(",", files.Select(Path.GetFileName))}", oracle, ours);
        var json = ours.Sum(o => o.JsonValues.Count);
        output.WriteLine($"live vs mariadb-binlog: {rows} rows, {values} values identical ({json} of them MariaDB JSON, embedded live and compared as JSON)");
        Assert.True(rows > 3000, $"only {rows} rows");
        Assert.True(json > 100, $"only {json} MariaDB JSON values embedded live");
    }

    [Fact]
    public void Replayed_binlog_equals_select_through_the_event_json_rules()
    {
        var run = Run;
        var state = new Dictionary<string, SortedDictionary<long, ColumnValue[]>>();
        var stats = new ReplayStats();
        foreach (var file in run.SegmentA.Concat(run.SegmentB).Concat(run.SegmentC))
        {
            using var reader = BinlogRenderer.OpenReader(file, run.NewSchemaAwareDecoder(stats));
            while (reader.ReadEvent() is { } e)
            {
                if (e is TableMapEvent map && map.Database == run.Database) stats.Maps++;
                if (e is not RowsEvent re || re.Table.Database != run.Database) continue;
                Replay(state, re, stats, run.Seed);
            }
        }
        output.WriteLine($"replay: {stats}");
        var mismatches = new List<string>();
        foreach (var table in run.Workload.AllTables)
        {
            var expected = run.Select(db, table);
            var actual = state.GetValueOrDefault(table.Name) ?? new SortedDictionary<long, ColumnValue[]>();
            CompareTable(table, expected, actual.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<JsonElement>)kv.Value.Select(ToJson).ToList()), mismatches);
        }
        Assert.True(mismatches.Count == 0, Report(run.Seed, mismatches));
        Assert.True(stats.MapsWithoutNames > 0, "no table map without column names was exercised");
        Assert.True(stats.SchemaApplied > 0, "the schema hook never ran");
        Assert.True(stats.MissingSeen > 0, "no MINIMAL/NOBLOB image with missing columns was exercised");
    }

    [Fact]
    public void Pluginhost_decode_json_lines_equal_select()
    {
        var run = Run;
        var state = new Dictionary<string, SortedDictionary<long, Dictionary<string, JsonElement>>>();
        var lines = 0;
        foreach (var file in run.SegmentA)
        {
            using var ms = new MemoryStream();
            DecodeCommand.Decode(file, ms);
            ms.Position = 0;
            using var text = new StreamReader(ms);
            while (text.ReadLine() is { } line)
            {
                lines++;
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.GetProperty("database").GetString() != run.Database) continue;
                var rows = state.TryGetValue(root.GetProperty("table").GetString()!, out var r) ? r : state[root.GetProperty("table").GetString()!] = new();
                var op = root.GetProperty("op").GetString();
                var before = root.GetProperty("before");
                var after = root.GetProperty("after");
                Assert.Equal(op == "insert", before.ValueKind == JsonValueKind.Null);
                Assert.Equal(op == "delete", after.ValueKind == JsonValueKind.Null);
                Dictionary<string, JsonElement>? old = null;
                if (op != "insert")
                {
                    var key = before.GetProperty("id").GetInt64();
                    Assert.True(rows.Remove(key, out old), $"{op} of a row not seen: {line}");
                }
                if (op != "delete")
                {
                    var merged = old != null ? new Dictionary<string, JsonElement>(old) : new Dictionary<string, JsonElement>();
                    foreach (var p in after.EnumerateObject()) merged[p.Name] = p.Value.Clone();
                    Assert.True(rows.TryAdd(merged["id"].GetInt64(), merged), $"duplicate key: {line}");
                }
            }
        }
        var mismatches = new List<string>();
        foreach (var table in run.Workload.AllTables.Where(t => t != run.Workload.HiresTable))
        {
            var actual = (state.GetValueOrDefault(table.Name) ?? new()).ToDictionary(kv => kv.Key,
                kv => (IReadOnlyList<JsonElement>)new[] { "id" }.Concat(table.Columns.Select(c => c.Name))
                    .Select(n => kv.Value.TryGetValue(n, out var v) ? v : Missing).ToList());
            CompareTable(table, run.SnapshotA[table.Name], actual, mismatches);
        }
        output.WriteLine($"pluginhost decode: {lines} JSON lines");
        Assert.True(mismatches.Count == 0, Report(run.Seed, mismatches));
    }

    [Fact]
    public void Hires_temporal_columns_need_and_use_the_schema_precision()
    {
        var run = Run;
        // With the schema hook the values are right (checked against SELECT in the replay test); here: the hook is
        // asked for these maps even though they carry FULL metadata, and sets the precision.
        var stats = new ReplayStats();
        var maps = 0;
        foreach (var file in run.SegmentC)
        {
            using var reader = BinlogRenderer.OpenReader(file, run.NewSchemaAwareDecoder(stats));
            while (reader.ReadEvent() is { } e)
            {
                if (e is not TableMapEvent map || map.Table != run.Workload.HiresTable.Name) continue;
                maps++;
                Assert.True(map.HasColumnNames);
                var t3 = map.Columns.Single(c => c.Name == "t3");
                Assert.Equal(ColumnType.Time, t3.Type);
                Assert.Equal(3, t3.Metadata);
                Assert.Equal(6, map.Columns.Single(c => c.Name == "dt6").Metadata);
                Assert.Equal(2, map.Columns.Single(c => c.Name == "ts2").Metadata);
                Assert.Equal(0, map.Columns.Single(c => c.Name == "t0").Metadata);
            }
        }
        Assert.True(maps > 0);

        // The oracle cannot print these rows (no fsp in the map): mariadb-binlog stops with an error at the first one,
        // which is why the hires table is only compared with SELECT (in the replay test).
        var failed = Assert.Throws<InvalidOperationException>(() => MariaDbBinlogOracle.Run(run.SegmentC[0]));
        Assert.Contains("exited", failed.Message);
    }

    [Fact]
    public void Json_printed_by_mariadb_binlog_is_read_back_as_its_stored_text()
    {
        // mariadb-binlog escapes bytes below 0x20 as \xHH and nothing else; inside a JSON string a backslash is JSON's.
        var stored = "{\n\t\"k\\\\x41\": \"a\\\\x0a\\\"b\",\r\n \"n\": [1, 2]}";
        var printed = BinlogRenderer.Quote(System.Text.Encoding.UTF8.GetBytes(stored));
        Assert.StartsWith("'{\\x0a\\x09\"k\\\\x41\"", System.Text.Encoding.UTF8.GetString(printed));
        Assert.Equal(stored, System.Text.Encoding.UTF8.GetString(BinlogRenderer.PrintedJsonText(printed)));
    }

    // ---------- helpers ----------

    /// <summary>Our rows (rendered by <see cref="BinlogRenderer"/>) equal mariadb-binlog's; returns the rows and values compared.</summary>
    private static (long Rows, long Values) AssertSameAsOracle(OracleRun run, string what, List<OracleRow> oracle, List<OracleRow> ours)
    {
        var diffs = BinlogRenderer.Diff(oracle, ours);
        Assert.True(diffs.Count == 0, $"seed {run.Seed}, {what}:\n" + string.Join("\n", diffs));
        return (oracle.Count, oracle.Sum(r => r.Before.Count + r.After.Count));
    }

    private static readonly JsonElement Missing = JsonDocument.Parse("\"(missing)\"").RootElement;

    private static JsonElement ToJson(ColumnValue v)
    {
        if (v.IsMissing) return Missing;
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) ColumnValueJson.Write(w, v);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static void CompareTable(OracleTable table, IReadOnlyDictionary<long, string[]> expected,
        IReadOnlyDictionary<long, IReadOnlyList<JsonElement>> actual, List<string> mismatches)
    {
        if (expected.Count != actual.Count)
            mismatches.Add($"{table.Name}: SELECT has {expected.Count} rows, replay {actual.Count} (missing ids {string.Join(",", expected.Keys.Except(actual.Keys).Take(10))}; extra {string.Join(",", actual.Keys.Except(expected.Keys).Take(10))})");
        foreach (var (id, sqlRow) in expected)
        {
            if (!actual.TryGetValue(id, out var ours)) continue;
            for (var i = 0; i < table.Columns.Count; i++)
            {
                var col = table.Columns[i];
                string mine;
                try { mine = OracleWorkload.JsonToComparable(ours[i + 1], col.Check); }
                catch (Exception e) when (e is FormatException or InvalidOperationException) { mine = $"{e.GetType().Name} on {ours[i + 1].GetRawText()}"; }
                var sql = OracleWorkload.SqlToComparable(sqlRow[i + 1], col.Check);
                if (mine != sql)
                    mismatches.Add($"{table.Name} id={id} {col.Name} {col.Ddl}: SELECT [{Short(sql)}] ours [{Short(mine)}] (json {Short(ours[i + 1].GetRawText())})");
            }
        }
    }

    /// <summary>Mismatches grouped by table and column (the first words of each message), a few examples each.</summary>
    private static string Report(int seed, List<string> mismatches) =>
        $"seed {seed}: {mismatches.Count} mismatches\n" + string.Join("\n", mismatches
            .GroupBy(m => string.Join(' ', m.Split(' ').Where((_, i) => i is 0 or 2)))
            .Select(g => $"[{g.Count()}× {g.Key}]\n  " + string.Join("\n  ", g.Take(3))));

    private static string Short(string s) => s.Length > 160 ? s[..160] + $"…({s.Length})" : s;

    private static void Replay(Dictionary<string, SortedDictionary<long, ColumnValue[]>> state, RowsEvent re, ReplayStats stats, int seed)
    {
        if (!state.TryGetValue(re.Table.Table, out var rows)) state[re.Table.Table] = rows = new();
        foreach (var change in re.Rows)
        {
            stats.Rows++;
            foreach (var image in new[] { change.Before, change.After })
                if (image != null)
                    foreach (var v in image)
                        if (v.IsMissing) stats.MissingSeen++;
            ColumnValue[]? old = null;
            if (change.Before != null)
            {
                var key = change.Before[0].Int64;
                if (!rows.Remove(key, out old)) throw new Xunit.Sdk.XunitException($"seed {seed}: {re.Kind} of unknown row {re.Table.Table} id={key} at {re.Header.Position}");
            }
            if (change.After == null) continue;
            var merged = old != null ? (ColumnValue[])old.Clone() : new ColumnValue[change.After.Length];
            for (var i = 0; i < merged.Length; i++)
                if (!change.After[i].IsMissing) merged[i] = change.After[i];
            if (!rows.TryAdd(merged[0].Int64, merged))
                throw new Xunit.Sdk.XunitException($"seed {seed}: duplicate key {re.Table.Table} id={merged[0].Int64} at {re.Header.Position}");
        }
    }
}
