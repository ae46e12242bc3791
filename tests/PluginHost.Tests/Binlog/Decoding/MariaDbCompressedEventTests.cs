using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>A throwaway MariaDB writing compressed events (<c>log_bin_compress=ON</c>, from 10 bytes on).</summary>
public sealed class CompressedMariaDb : IDisposable
{
    public MariaDbServer Server { get; } = new("--log-bin-compress=ON --log-bin-compress-min-len=10");

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// MariaDB's compressed events (QUERY_COMPRESSED, WRITE/UPDATE/DELETE_ROWS_COMPRESSED) decode, live and from files and
/// through <c>pluginhost decode</c>, to the rows and queries the same statements give on a server without compression.
/// </summary>
[Trait("Category", "Integration")]
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbCompressedEventTests(MariaDbServer plain, CompressedMariaDb fixture, ITestOutputHelper output)
    : IClassFixture<CompressedMariaDb>
{
    private const string Db = "cmp_events";
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);
    /// <summary>Rows the statements change: 5 transactions of 20 inserts, 10 updates and 5 deletes; one insert; the marker.</summary>
    private const int Changed = 5 * (20 + 10 + 5) + 1 + 1;

    private MariaDbServer Compressed => fixture.Server;

    private static string Statements()
    {
        var sb = new StringBuilder($"""
            DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; USE {Db};
            CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64));
            CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4, note TEXT CHARACTER SET latin1,
              amount DECIMAL(12,3), at DATETIME(6), data BLOB, tag ENUM('a','b','c'), u BIGINT UNSIGNED);

            """);
        for (var tx = 0; tx < 5; tx++)
        {
            sb.Append("BEGIN;\n");
            for (var i = 0; i < 20; i++)
            {
                var id = tx * 100 + i;
                sb.Append($"INSERT INTO t VALUES ({id}, 'Zoë 日本 😀 {id}', '{new string((char)('a' + i), 300 + id)} café', {id}.125, " +
                          $"'2024-02-29 12:34:56.{id:D6}', UNHEX(REPEAT('00FF', {id % 50 + 1})), '{"abc"[i % 3]}', {ulong.MaxValue - (ulong)id});\n");
            }
            // One statement, many rows: a rows event well over the minimum length.
            sb.Append($"UPDATE t SET name = CONCAT(name, ' upd'), amount = amount * 2 WHERE id BETWEEN {tx * 100} AND {tx * 100 + 9};\n");
            sb.Append($"DELETE FROM t WHERE id BETWEEN {tx * 100 + 15} AND {tx * 100 + 19};\n");
            sb.Append("COMMIT;\n");
        }
        sb.Append("ALTER TABLE t ADD COLUMN extra VARCHAR(20) DEFAULT 'after alter';\n");
        sb.Append("INSERT INTO t (id, name) VALUES (9999, 'the last row, with a default');\n");
        return sb.Append(Workload.Marker(Db, "end")).ToString();
    }

    [Fact]
    public async Task Compressed_events_decode_live_and_from_files_like_an_uncompressed_run_of_the_same_statements()
    {
        var (plainFile, plainPos) = Repl.MasterStatus(plain);
        var (file, position) = Repl.MasterStatus(Compressed);
        await using var reader = new Reader(new BinlogClient(Repl.Options(Compressed, BinlogStart.At(file, position), output)), deadline: TimeSpan.FromMinutes(2));
        await reader.ConnectedAsync();
        var sql = Statements();
        plain.Sql(sql);
        Compressed.Sql(sql);

        var live = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "end"));
        var fromFile = Repl.UpToMarker(Repl.DecodeFiles(Compressed, file, position), "marker", "end");
        var expected = Repl.UpToMarker(Repl.DecodeFiles(plain, plainFile, plainPos), "marker", "end");

        // The compressed server did write compressed events of every kind.
        var types = RawTypes(Compressed, file, position);
        output.WriteLine(string.Join(", ", types.GroupBy(t => t).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.Contains(BinlogEventType.MariaDbQueryCompressed, types);
        foreach (var kind in new[] { "Write", "Update", "Delete" })
            Assert.Contains(types, t => t.ToString().StartsWith($"MariaDb{kind}RowsCompressed", StringComparison.Ordinal));
        // All but the marker's row (shorter than the minimum length) are compressed.
        Assert.True(types.Count(t => t is >= BinlogEventType.MariaDbWriteRowsCompressedV1 and <= BinlogEventType.MariaDbDeleteRowsCompressed) > 100);

        var expectedRows = Repl.Rows(expected, Db);
        Assert.Equal(Changed, expectedRows.Count);
        Repl.SameRows(expectedRows, Repl.Rows(fromFile, Db), "file of the compressed server");
        Repl.SameRows(expectedRows, Repl.Rows(live, Db), "stream of the compressed server");
        Assert.Equal(Queries(expected), Queries(fromFile));
        Assert.Equal(Queries(expected), Queries(live));
    }

    [Fact]
    public async Task Pluginhost_decode_prints_the_rows_of_a_compressed_binlog_file()
    {
        var sql = Statements();
        var plainPath = InFileOfItsOwn(plain, sql);
        var path = InFileOfItsOwn(Compressed, sql);

        var result = await HostCommand.RunAsync(HangGuard, "decode", path);
        var reference = await HostCommand.RunAsync(HangGuard, "decode", plainPath);

        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}: {result.StandardError}");
        Assert.Equal("", result.StandardError);
        var rows = Changes(result.StandardOutput);
        Assert.Equal(Changed, rows.Count);
        Assert.Equal(Changes(reference.StandardOutput), rows);
    }

    [Fact]
    public async Task A_compressed_event_that_cannot_be_uncompressed_is_named_by_type_offset_and_file()
    {
        var source = InFileOfItsOwn(Compressed, Statements());
        var dir = TestTemp.CreateSubdirectory("compressed-corrupt");
        var path = Path.Combine(dir.FullName, "mysql-bin.000077");
        var bytes = File.ReadAllBytes(source);

        // The first compressed WRITE_ROWS event: set its record's algorithm bits to 1 (only 0, zlib, exists), then put
        // the CRC32 right, so that only the compression is wrong.
        var (offset, length, table) = FirstCompressedWrite(source);
        var record = offset + BinlogEventHeader.Size + 8 + 1 + (table.Columns.Count + 7) / 8;
        Assert.Equal(0x80, bytes[record] & 0xF0);
        bytes[record] |= 0x10;
        var crc = Crc32.HashToUInt32(bytes.AsSpan((int)offset, length - 4));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)offset + length - 4), crc);
        await File.WriteAllBytesAsync(path, bytes);

        var result = await HostCommand.RunAsync(HangGuard, "decode", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"pluginhost decode: {path}: ", result.StandardError);
        var type = (BinlogEventType)bytes[offset + 4];
        Assert.Contains($"{type} event at position {offset}", result.StandardError);
        Assert.Contains("unknown algorithm 1", result.StandardError);
    }

    /// <summary>Runs the statements into a binlog file that holds nothing else; returns its path.</summary>
    private static string InFileOfItsOwn(MariaDbServer server, string sql)
    {
        server.FlushLogs();
        server.Sql(sql);
        var path = server.BinlogFiles()[^1];
        server.FlushLogs();
        return path;
    }

    private static (long Offset, int Length, TableMapEvent Table) FirstCompressedWrite(string path)
    {
        using var reader = new BinlogFileReader(path);
        TableMapEvent? table = null;
        while (reader.ReadEvent() is { } e)
        {
            if (e is TableMapEvent map) table = map;
            if (e.Header.EventType is BinlogEventType.MariaDbWriteRowsCompressedV1 or BinlogEventType.MariaDbWriteRowsCompressed && table!.Table == "t")
                return (e.Header.Position, (int)e.Header.EventLength, table);
        }
        throw new InvalidOperationException($"no compressed WRITE_ROWS event in {path}");
    }

    private static List<BinlogEventType> RawTypes(MariaDbServer server, string file, long position)
    {
        var types = new List<BinlogEventType>();
        foreach (var path in server.BinlogFiles().Where(p => string.CompareOrdinal(Path.GetFileName(p), file) >= 0))
        {
            using var reader = new BinlogFileReader(path);
            while (true)
            {
                var at = reader.Position;
                var raw = reader.NextRaw();
                if (raw.IsEmpty) break;
                if (Path.GetFileName(path) != file || at >= position) types.Add((BinlogEventType)raw[4]);
            }
        }
        return types;
    }

    private static List<string> Queries(IEnumerable<BinlogEvent> events) =>
        events.OfType<QueryEvent>().Where(q => q.Database == Db || q.Sql.Contains(Db, StringComparison.Ordinal)).Select(q => q.Sql).ToList();

    /// <summary>The rows of <c>decode</c>'s output for our database, without what differs between servers (position, time, GTID).</summary>
    private static List<string> Changes(string stdout) => stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => JsonNode.Parse(l)!.AsObject())
        .Where(o => o["database"]!.GetValue<string>() == Db)
        .Select(o =>
        {
            foreach (var field in new[] { "pos", "ts", "gtid", "file" }) o.Remove(field);
            return o.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        })
        .ToList();
}
