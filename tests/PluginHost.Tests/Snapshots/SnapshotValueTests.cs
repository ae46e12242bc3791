using System.Text.Json.Nodes;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Schema;
using PluginHost.Sdk;
using PluginHost.Snapshots;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// The key rule of snapshots: a row read by the chunk reader gives exactly the values the same row gives through the
/// binlog (BinlogClient + ChangeEventFactory, as the pipeline reads it), column by column, for every column type.
/// </summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class SnapshotValueTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "snap_values";

    internal const string Table = """
        CREATE TABLE every (
          id INT NOT NULL PRIMARY KEY,
          ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
          i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, bo BOOLEAN,
          d52 DECIMAL(5,2), d2810 DECIMAL(28,10), d6530 DECIMAL(65,30), d100u DECIMAL(10,0) UNSIGNED, d290 DECIMAL(29,0),
          f FLOAT, dbl DOUBLE,
          c CHAR(10), vc VARCHAR(100), tx TEXT, mtx MEDIUMTEXT, cbin VARCHAR(20) COLLATE utf8mb4_bin,
          c_latin1 VARCHAR(50) CHARACTER SET latin1, c_cp1251 VARCHAR(50) CHARACTER SET cp1251, c_ucs2 VARCHAR(20) CHARACTER SET ucs2,
          c_utf16 VARCHAR(20) CHARACTER SET utf16, c_utf32 VARCHAR(20) CHARACTER SET utf32, c_utf8mb3 VARCHAR(20) CHARACTER SET utf8mb3,
          c_ascii VARCHAR(20) CHARACTER SET ascii, t_latin1 TEXT CHARACTER SET latin1,
          bn BINARY(8), vb VARBINARY(50), bl BLOB, tbl TINYBLOB, cb CHAR(4) CHARACTER SET binary,
          dt DATE, dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
          tm TIME, tm2 TIME(2), tm6 TIME(6), yr YEAR,
          b1 BIT(1), b10 BIT(10), b64 BIT(64),
          e ENUM('a','b','c d','é',''), s SET('x','y','z','ü'),
          j JSON, jt LONGTEXT, g GEOMETRY, pt POINT
        ) DEFAULT CHARSET utf8mb4;
        """;

    internal static readonly string[] Rows =
    [
        "(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " +
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " +
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "(2, 1, 2, 300, 400, 50000, 60000, 123456, 4000000000, 9000000000, 18000000000000000000, TRUE, " +
        "123.45, '123456789012345678.0123456789', '12345678901234567890123456789012345.123456789012345678901234567890', 1234567890, '12345678901234567890123456789', " +
        "3.14159274, 0.1e0, 'ab   ', 'Zoë 😀 中文 \\'q\\'', REPEAT('long text ', 50), 'medium', 'CaSe', " +
        "_utf8mb4'café € ÿ', _utf8mb4'Привет', _utf8mb4'Ωmega ß', _utf8mb4'😀 surrogate', _utf8mb4'𝄞 utf32', _utf8mb4'mb3 ü', 'plain ascii', _utf8mb4'latin1 text é', " +
        "'ab', X'00FF10', X'DEADBEEF00', X'', 'abcd', " +
        "'2024-02-29', '2024-02-29 13:14:15', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.123456', '2024-06-01 12:00:00', '2024-06-01 12:00:00.654321', " +
        "'12:34:56', '12:34:56.78', '-01:02:03.000004', 2024, " +
        "b'1', b'1010101010', b'0000000000000000000000000000000000000000000000000000000100000001', " +
        "'c d', 'x,z', '{\"a\": 1, \"b\": [true, null], \"c\": \"é😀\"}', '{\"not\": \"json column\"}', " +
        "ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))', 4326), ST_GeomFromText('POINT(1.5 -2.25)'))",
        "(3, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, FALSE, " +
        "-999.99, '-999999999999999999.9999999999', '-99999999999999999999999999999999999.999999999999999999999999999999', 0, '-99999999999999999999999999999', " +
        "-3.4e38, -1.7976931348623157e308, '', '', '', '', '', '', '', '', '', '', '', '', '', " +
        "X'0000000000000000', X'00', X'00', X'00', X'00000000', " +
        "'1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01', '1970-01-01 00:00:01.000001', " +
        "'-838:59:59', '-838:59:59.99', '-838:59:59.000000', 1901, " +
        "b'0', b'0', b'0', '', '', '[]', '', " +
        "ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'), ST_GeomFromText('POINT(0 0)', 3857))",
        "(4, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1, " +
        "999.99, '999999999999999999.9999999999', '99999999999999999999999999999999999.999999999999999999999999999999', 9999999999, '99999999999999999999999999999', " +
        "3.4e38, 1.7976931348623157e308, 'zzzzzzzzzz', REPEAT('é', 100), 'x', 'y', 'z', _utf8mb4'ÿÿ', _utf8mb4'ЯЯ', _utf8mb4'ΩΩ', _utf8mb4'😀😀', _utf8mb4'😀😀', _utf8mb4'€', '~', _utf8mb4'ÿ', " +
        "X'FFFFFFFFFFFFFFFF', REPEAT(X'FF', 50), REPEAT(X'AB', 1000), X'7F', X'FFFFFFFF', " +
        "'9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999', " +
        "'838:59:59', '838:59:59.99', '838:59:59.000000', 2155, " +
        "b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 'é', 'x,y,z,ü', " +
        "'[1, 2.5, -3e10, 12345678901234567890123, \"中文\", {\"k\": {}}]', 'not json at all', " +
        "ST_GeomFromText('MULTIPOINT((1 1), (2 2))'), ST_GeomFromText('POINT(-180 90)'))",
        "(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, " +
        "0, 0, 0, 0, 0, " +
        "1e-30, 5e-324, 'a', ' leading', 'trailing  ', '\\n\\t\\\\', 'tab\\there', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', " +
        "X'0102', X'0000', X'00', X'', X'61000000', " +
        "'0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', " +
        "'00:00:00', '00:00:00.00', '-00:00:00.000001', 0, " +
        "b'0', b'1', b'1000000000000000000000000000000000000000000000000000000000000000', 'not a label', 'y', " +
        "'null', '{}', NULL, NULL)",
        "(6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, " +
        "0.01, '0.0000000001', '0.000000000000000000000000000001', 1, 1, " +
        "1.17549435e-38, 2.2250738585072014e-308, 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', " +
        "X'01', X'01', X'01', X'01', X'01000001', " +
        "'2024-00-00', '2024-02-30 25:00:00', '2024-01-00 00:00:00.001', '2000-02-29 23:59:59.000001', '2000-02-29 23:59:59', '2000-02-29 23:59:59.5', " +
        "'100:00:00', '24:00:00.01', '-100:00:00.5', 1999, " +
        "b'1', b'1', b'1', 'a', 'x,y', '\"str\"', '\"str\"', NULL, NULL)",
    ];

    [Fact]
    public async Task Every_column_type_reads_the_same_values_as_the_binlog()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; USE {Db}; CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64)); {Table}");
        var (file, pos) = Repl.MasterStatus(db);
        // sql_mode '' lets zero dates, invalid dates and the invalid ENUM value in; TIMESTAMPs are written in +03:00.
        db.Sql($"USE {Db}; SET sql_mode = ''; SET time_zone = '+03:00'; SET NAMES utf8mb4;\n" +
               string.Concat(Rows.Select(r => $"INSERT INTO every VALUES {r};\n")) + Workload.Marker(Db, "done"));

        var stream = new Dictionary<long, ChangeEvent>();
        await using (var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)), deadline: TimeSpan.FromMinutes(2)))
        {
            var factory = new ChangeEventFactory();
            foreach (var rows in (await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "done"))).OfType<RowsEvent>().Where(r => r.Table.Table == "every"))
            {
                var info = factory.TableInfoOf(rows.Table);
                foreach (var row in rows.Rows)
                {
                    var e = factory.Create(rows, row, info);
                    stream[(long)e.After!["id"]!] = e;
                }
            }
        }
        Assert.Equal(Rows.Length, stream.Count);

        await using var chunks = await ChunkReader.OpenAsync(Repl.Connection(db));
        var table = await chunks.DescribeAsync(Db, "every");
        var chunk = await chunks.ReadChunkAsync(table, null, null, 1000);
        Assert.True(chunk.Result.IsExhausted);
        Assert.Equal(Rows.Length, chunk.Events.Count);

        // The table description is the stream's.
        var streamInfo = stream[1].Schema!;
        Assert.Equal(streamInfo.Columns.Select(c => c.ToString()), table.Info.Columns.Select(c => c.ToString()));
        Assert.Equal(streamInfo.PrimaryKey, table.Info.PrimaryKey);

        var failures = new List<string>();
        foreach (var snap in chunk.Events)
        {
            var id = (long)snap.After!["id"]!;
            var binlog = stream[id];
            Assert.Equal(ChangeOperation.Read, snap.Op);
            Assert.Null(snap.Before);
            Assert.Equal((Db, "every"), (snap.Database, snap.Table));
            var expected = JsonNode.Parse(ChangeEventJson.Serialize(binlog))!["after"]!.AsObject();
            var actual = JsonNode.Parse(ChangeEventJson.Serialize(snap))!["after"]!.AsObject();
            Assert.Equal(expected.Select(kv => kv.Key), actual.Select(kv => kv.Key));
            foreach (var (name, value) in expected)
            {
                var got = actual[name];
                if (!JsonNode.DeepEquals(value, got))
                    failures.Add($"row {id} column {name}: binlog {value?.ToJsonString() ?? "null"}, snapshot {got?.ToJsonString() ?? "null"}");
                var (b, s) = (binlog.After![name], snap.After![name]);
                if (b?.GetType() != s?.GetType())
                    failures.Add($"row {id} column {name}: binlog .NET type {b?.GetType().Name ?? "null"}, snapshot {s?.GetType().Name ?? "null"}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
