using System.Globalization;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;
using PluginHost.Sdk;
using PluginHost.Snapshots;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Snapshots;

/// <summary>The chunk reader on the real MariaDB: keyset paging, chunk keys, keyless tables, bad input, positions.</summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class ChunkReaderTests(MariaDbServer db)
{
    private const string Db = "snap_chunks";
    private static readonly string[] Names = ["", "it's", "back\\slash", "😀", "%_", "a\"b", "Zoë", "z", "ü", "\t", "`tick`", "ab", "abc"];

    private void Setup()
    {
        var comp = string.Join(",\n", Enumerable.Range(0, 20).SelectMany(a => Names.Select(n => $"({a % 7}, {Lit(n + a)}, {a})")));
        db.Sql($"""
            DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; USE {Db};
            CREATE TABLE comp (a INT NOT NULL, b VARCHAR(40) NOT NULL, v INT, PRIMARY KEY (a, b)) DEFAULT CHARSET utf8mb4;
            INSERT INTO comp VALUES {comp};
            CREATE TABLE bin (k VARBINARY(16) NOT NULL PRIMARY KEY, n INT);
            INSERT INTO bin SELECT UNHEX(CONCAT(LPAD(HEX(seq % 256), 2, '0'), '27', LPAD(HEX(seq), 4, '0'), '5C00')), seq FROM seq_1_to_300;
            INSERT INTO bin VALUES (X'', 0), (X'00', -1), (X'27', -2), (X'5C', -3);
            CREATE TABLE dt (d DATETIME(6) NOT NULL, e ENUM('b','a','c') NOT NULL, n INT, PRIMARY KEY (d, e));
            INSERT INTO dt SELECT '2024-01-01' + INTERVAL (seq DIV 3) SECOND + INTERVAL seq MICROSECOND, ELT(1 + seq % 3, 'b', 'a', 'c'), seq FROM seq_1_to_100;
            CREATE TABLE uk (id INT NULL, code VARCHAR(20) NOT NULL, other INT NULL, UNIQUE KEY u_other (other), UNIQUE KEY u_code (code));
            INSERT INTO uk SELECT IF(seq % 5 = 0, NULL, seq), CONCAT('c', LPAD(seq, 4, '0')), IF(seq % 2 = 0, NULL, seq) FROM seq_1_to_50;
            CREATE TABLE nokey (x INT, y TEXT, UNIQUE KEY (x));
            INSERT INTO nokey SELECT seq, REPEAT('y', seq % 10) FROM seq_1_to_500;
            CREATE VIEW v AS SELECT * FROM comp;
            """);
    }

    [Fact]
    public async Task Keyset_paging_over_a_composite_key_returns_every_row_exactly_once()
    {
        Setup();
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        foreach (var (name, keyColumns) in new[] { ("comp", new[] { "a", "b" }), ("bin", new[] { "k" }), ("dt", new[] { "d", "e" }) })
        {
            var table = await reader.DescribeAsync(Db, name);
            Assert.Equal(ChunkKeyKind.PrimaryKey, table.ChunkKeyKind);
            Assert.Equal(keyColumns, table.ChunkKey.Select(i => table.Columns[i].Name));
            // The server's own order and count, through its CLI.
            var expected = db.Sql($"SELECT {string.Join(", ", keyColumns.Select(k => $"HEX(CONCAT({k}))"))} FROM {Db}.{name} ORDER BY {string.Join(", ", keyColumns)};")
                .TrimEnd('\n').Split('\n');
            foreach (var size in new[] { 1, 3, 1000 })
            {
                var seen = new List<string>();
                SnapshotKey? after = null;
                var chunks = 0;
                while (true)
                {
                    var chunk = await reader.ReadChunkAsync(table, after, null, size);
                    chunks++;
                    Assert.True(chunk.Events.Count <= size);
                    seen.AddRange(chunk.Events.Select(e => string.Join('\t', keyColumns.Select(k => Hex(e.After![k])))));
                    if (chunk.Result.IsExhausted) break;
                    // Through the checkpoint's text form, as a resumed snapshot gets it.
                    after = SnapshotKey.Parse(chunk.Result.LastKey!.ToString());
                    Assert.Equal(chunk.Result.LastKey, after);
                }
                Assert.True(expected.SequenceEqual(seen), $"{name} in chunks of {size}: {seen.Count} rows read, {expected.Length} in the table; " +
                                                          $"first difference at {expected.Zip(seen).TakeWhile(p => p.First == p.Second).Count()}");
                Assert.InRange(chunks, expected.Length / size, expected.Length / size + 2);
            }
        }
    }

    [Fact]
    public async Task The_chunk_query_uses_the_key_as_a_range()
    {
        Setup();
        db.Sql($"ANALYZE TABLE {Db}.comp;");
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        await using var c = await MySqlProtocolConnection.OpenAsync(Repl.Connection(db));
        var table = await reader.DescribeAsync(Db, "comp");
        var first = await reader.ReadChunkAsync(table, null, null, 10);
        var explain = await c.QueryAsync("EXPLAIN " + ChunkSql.Select(table, first.Result.LastKey, null, 10));
        Assert.Equal("range", explain.GetValue(0, "type"));
        Assert.Equal("PRIMARY", explain.GetValue(0, "key"));
    }

    [Fact]
    public async Task A_unique_not_null_key_pages_a_table_without_primary_key_and_a_keyless_table_is_one_streamed_pass()
    {
        Setup();
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        var uk = await reader.DescribeAsync(Db, "uk");
        Assert.Equal(ChunkKeyKind.UniqueKey, uk.ChunkKeyKind);
        Assert.Equal("u_code", uk.ChunkKeyName); // u_other is nullable
        var codes = new List<string>();
        SnapshotKey? after = null;
        while (true)
        {
            var chunk = await reader.ReadChunkAsync(uk, after, "id IS NOT NULL", 7);
            codes.AddRange(chunk.Events.Select(e => (string)e.After!["code"]!));
            if (chunk.Result.IsExhausted) break;
            after = chunk.Result.LastKey;
        }
        Assert.Equal(Enumerable.Range(1, 50).Where(i => i % 5 != 0).Select(i => $"c{i:D4}"), codes);

        var nokey = await reader.DescribeAsync(Db, "nokey");
        Assert.Equal(ChunkKeyKind.None, nokey.ChunkKeyKind);
        Assert.Empty(nokey.ChunkKey);
        Assert.InRange(nokey.EstimatedRows, 1, 10_000);
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ReadChunkAsync(nokey, null, null, 10));
        var xs = new List<long>();
        var result = await reader.ReadChunkAsync(nokey, null, null, 10, (e, _) =>
        {
            Assert.Equal(ChangeOperation.Read, e.Op);
            xs.Add((long)e.After!["x"]!);
            return ValueTask.CompletedTask;
        });
        Assert.True(result.IsExhausted);
        Assert.Null(result.LastKey);
        Assert.Equal(500, result.Rows);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), xs.Order());
    }

    [Fact]
    public async Task The_table_list_is_read_on_the_readers_connection_base_tables_only_in_order()
    {
        Setup();
        db.Sql($"CREATE TABLE {Db}.`zoë` (id INT PRIMARY KEY); INSERT INTO {Db}.`zoë` VALUES (1), (2);");
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        var tables = await reader.ListTablesAsync();
        var ours = tables.Where(t => t.Database == Db).Select(t => t.Table).ToArray();
        Assert.Equal(["bin", "comp", "dt", "nokey", "uk", "zoë"], ours); // no view; names decoded from the session's raw results
        Assert.DoesNotContain(tables, t => t.Database.Equals("information_schema", StringComparison.OrdinalIgnoreCase));
        // The same connection then reads chunks with its session settings intact.
        var chunk = await reader.ReadChunkAsync(await reader.DescribeAsync(Db, "zoë"), null, null, 10);
        Assert.Equal(2, chunk.Events.Count);
    }

    [Fact]
    public async Task A_bad_where_and_a_missing_table_are_clear_errors_that_change_nothing()
    {
        Setup();
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        var table = await reader.DescribeAsync(Db, "comp");
        foreach (var where in new[] { "v = ", "nosuchcolumn > 1", "1=1; DROP TABLE comp", "v > 1 -- x", "v > 1 # x", "v /* c */ > 1", "v > 1) OR (1=1",
                     "v IN (1", "b = 'open", "" })
        {
            var e = await Assert.ThrowsAsync<SnapshotWhereException>(() => reader.ReadChunkAsync(table, null, where, 10));
            Assert.Contains("'where'", e.Message);
            Assert.Equal(where, e.Where);
        }
        var server = await Assert.ThrowsAsync<SnapshotWhereException>(() => reader.ReadChunkAsync(table, null, "nosuchcolumn > 1", 10));
        Assert.Contains("nosuchcolumn", server.Message);
        Assert.Contains($"{Db}.comp", server.Message);
        // Quotes and parentheses inside strings are fine; the reader is still usable after the errors.
        var ok = await reader.ReadChunkAsync(table, null, "b <> 'x;y -- (' AND (a = 1 OR a = 2)", 1000);
        Assert.Equal(2 * 3 * Names.Length, ok.Events.Count);

        var missing = await Assert.ThrowsAsync<SnapshotTableNotFoundException>(() => reader.DescribeAsync(Db, "nope"));
        Assert.Contains($"{Db}.nope", missing.Message);
        Assert.Equal("nope", missing.Table);
        var view = await Assert.ThrowsAsync<SnapshotTableNotFoundException>(() => reader.DescribeAsync(Db, "v"));
        Assert.Contains("view", view.Message);
        db.Sql($"DROP TABLE {Db}.uk;");
        var uk = await Assert.ThrowsAsync<SnapshotTableNotFoundException>(() => reader.DescribeAsync(Db, "uk"));
        Assert.Contains($"{Db}.uk", uk.Message);
        Assert.Equal((20 * Names.Length).ToString(CultureInfo.InvariantCulture), db.Sql($"SELECT COUNT(*) FROM {Db}.comp;").Trim());
    }

    [Fact]
    public async Task A_chunk_is_exactly_the_table_at_its_binlog_position()
    {
        Setup();
        db.Sql($"USE {Db}; INSERT INTO comp VALUES (100, 'before', 1);");
        var options = new ChunkReaderOptions
        {
            ResolveGtid = true,
            // From another connection while the chunk's snapshot transaction is open, before its SELECT.
            BeforeSelect = _ => { db.Sql($"USE {Db}; INSERT INTO comp VALUES (100, 'during', 2); UPDATE comp SET v = -1 WHERE a = 100 AND b = 'before';"); return Task.CompletedTask; },
        };
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db), options);
        Assert.Equal(SnapshotPositionMode.ConsistentSnapshot, reader.PositionMode);
        var table = await reader.DescribeAsync(Db, "comp");
        var chunk = await reader.ReadChunkAsync(table, null, "a = 100", 10);
        var row = Assert.Single(chunk.Events);
        Assert.Equal("before", row.After!["b"]);
        Assert.Equal(1L, row.After!["v"]);
        var position = chunk.Result.Position;
        Assert.True(position.IsExact);
        Assert.Equal(position, chunk.Result.LowWatermark);
        Assert.Equal((position.File, position.Offset), (row.File, row.Position));
        Assert.False(string.IsNullOrEmpty(position.Gtid));

        // In the binlog, the insert read by the chunk is before its position, the changes it did not see are after it.
        var after = Repl.DecodeFiles(db, position.File, position.Offset).OfType<RowsEvent>().Where(r => r.Table.Table == "comp").SelectMany(Repl.Render).ToList();
        Assert.Contains(after, r => r.Contains("b=during", StringComparison.Ordinal));
        Assert.Contains(after, r => r.Contains("v=-1", StringComparison.Ordinal));
        Assert.DoesNotContain(after, r => r.Contains("Insert", StringComparison.Ordinal) && r.Contains("b=before", StringComparison.Ordinal));
        var gtidNow = Repl.GtidBinlogPos(db);
        Assert.NotEqual(gtidNow, position.Gtid);
    }

    [Fact]
    public async Task The_watermark_mode_brackets_the_select_between_two_positions()
    {
        Setup();
        var options = new ChunkReaderOptions
        {
            PositionMode = SnapshotPositionMode.Watermark,
            BeforeSelect = _ => { db.Sql($"USE {Db}; INSERT INTO comp VALUES (200, 'between', 3);"); return Task.CompletedTask; },
        };
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db), options);
        var table = await reader.DescribeAsync(Db, "comp");
        var chunk = await reader.ReadChunkAsync(table, null, "a = 200", 10);
        Assert.Equal("between", Assert.Single(chunk.Events).After!["b"]); // no snapshot: the SELECT sees it
        var (low, high) = (chunk.Result.LowWatermark, chunk.Result.Position);
        Assert.False(low.IsExact || high.IsExact);
        Assert.True(string.CompareOrdinal(low.File, high.File) < 0 || low.File == high.File && low.Offset < high.Offset, $"{low} !< {high}");
        var between = Repl.DecodeFiles(db, low.File, low.Offset)
            .Where(e => e.Header.Position < high.Offset || low.File != high.File).OfType<RowsEvent>().SelectMany(Repl.Render).ToList();
        Assert.Contains(between, r => r.Contains("b=between", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_consumer_failing_mid_chunk_leaves_the_reader_usable()
    {
        Setup();
        await using var reader = await ChunkReader.OpenAsync(Repl.Connection(db));
        var table = await reader.DescribeAsync(Db, "comp");
        var seen = 0;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ReadChunkAsync(table, null, null, 100,
            (_, _) => ++seen == 3 ? throw new InvalidOperationException("sink full") : ValueTask.CompletedTask));
        Assert.Equal("sink full", e.Message);
        using var cancelled = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadChunkAsync(table, null, null, 100,
            (_, _) => { cancelled.Cancel(); return ValueTask.CompletedTask; }, cancelled.Token));
        var again = await reader.ReadChunkAsync(table, null, null, 100);
        Assert.Equal(100, again.Events.Count);
        Assert.False(again.Result.IsExhausted);
    }

    private static string Hex(object? value) => value switch
    {
        byte[] b => Convert.ToHexString(b),
        string s => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s)),
        DateTime d => Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(d.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture))),
        _ => Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture)!)),
    };

    private static string Lit(string s) => $"_utf8mb4 X'{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s))}'";
}
