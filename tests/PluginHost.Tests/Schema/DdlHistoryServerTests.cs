using PluginHost.Binlog.History;
using PluginHost.Binlog.Replication;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Schema;

/// <summary>
/// The DDL subset the schema history reads, checked against the server itself: each statement runs on the real
/// MariaDB (so it is one the server accepts), is applied to a history, and the history must then describe every table
/// exactly as information_schema does (names in order, types, signedness, character sets, labels, key, JSON).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DdlHistoryServerTests(ITestOutputHelper output)
{
    private static readonly string[] Statements =
    [
        "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20), b INT)",
        "ALTER TABLE t ADD COLUMN c INT",
        "ALTER TABLE t DROP COLUMN a",
        "ALTER TABLE `t` ADD `first col` BIGINT UNSIGNED FIRST, ADD COLUMN d DATETIME(3) AFTER b",
        "ALTER TABLE h.t CHANGE COLUMN c c2 SMALLINT UNSIGNED NOT NULL DEFAULT 5 COMMENT 'x, y' AFTER id",
        "ALTER TABLE t MODIFY b VARCHAR(30) CHARACTER SET latin1 FIRST, ALGORITHM=COPY",
        "ALTER TABLE t RENAME COLUMN d TO `when`, ADD INDEX ix_b (b), ADD CONSTRAINT uq UNIQUE KEY (c2)",
        "ALTER TABLE t ADD (e ENUM('red','gre''en','blue'), s SET('a','b') CHARACTER SET utf8mb4, j JSON)",
        "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, c2)",
        "ALTER TABLE t DROP INDEX ix_b, ENGINE=InnoDB, COMMENT='table, with comma'",
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS c2 INT, DROP COLUMN IF EXISTS nothing",
        "ALTER TABLE t DEFAULT CHARSET=latin1",
        "ALTER TABLE t ADD COLUMN l TEXT",
        "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        "/*!40000 ALTER TABLE t DISABLE KEYS */",
        "ALTER TABLE t ALTER COLUMN c2 SET DEFAULT 7",
        "CREATE TABLE other.u (k CHAR(4) NOT NULL, v DECIMAL(10,2) UNSIGNED, PRIMARY KEY (k)) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE h.copy LIKE t",
        "RENAME TABLE t TO t_old, h.copy TO t",
        "ALTER TABLE t_old RENAME TO other.moved",
        "TRUNCATE TABLE t",
        "DROP TABLE IF EXISTS other.moved",
        "CREATE TABLE IF NOT EXISTS t (x INT)",
        "CREATE TABLE `we``ird` (`col``q` INT KEY, `2nd` TINYINT(1) ZEROFILL, n NATIONAL VARCHAR(5), f FLOAT(30), y YEAR, bt BIT(3)," +
            " tm TIME(6), ts TIMESTAMP(2) NULL, bin VARBINARY(8), bl MEDIUMBLOB, g POINT, dc DEC(5,1), CHECK (y > 1900))",
        "ALTER TABLE `we``ird` ADD COLUMN gen INT AS (`col``q` * 2) VIRTUAL AFTER `col``q`",
        "CREATE OR REPLACE TABLE t (id INT NOT NULL, payload LONGTEXT, CONSTRAINT pk PRIMARY KEY (id), CHECK (json_valid(payload)))",
        "DROP DATABASE other",
    ];

    [Fact]
    public async Task Every_statement_the_server_accepts_leaves_the_history_equal_to_information_schema()
    {
        using var db = new MariaDbServer("--binlog-row-metadata=MINIMAL");
        db.Sql("CREATE DATABASE h; CREATE DATABASE other;");
        static bool Takes(string d, string t) => d is "h" or "other";
        var history = new SchemaHistory(Takes);
        await using var schema = new InformationSchemaProvider(Repl.Connection(db));
        var (tables, databases) = await schema.DescribeTablesAsync(Takes, null, mariaDb: true, CancellationToken.None);
        history.RecordBaseline(tables, databases, new BinlogPosition("", 0));
        var position = 1L;
        foreach (var sql in Statements)
        {
            db.Sql(sql + ";", "h"); // the server accepts it (else this throws)
            Assert.True(history.ApplyStatement(sql, "h", new BinlogPosition("b.000001", position++)) || sql.StartsWith("TRUNCATE", StringComparison.Ordinal) ||
                        sql.Contains("IF NOT EXISTS t ", StringComparison.Ordinal) || sql.Contains("DISABLE KEYS", StringComparison.Ordinal) ||
                        sql.Contains("SET DEFAULT", StringComparison.Ordinal) || sql.Contains("DROP INDEX", StringComparison.Ordinal),
                $"nothing recorded for: {sql}");
            Assert.Empty(history.UncertainTables);
            var (now, _) = await schema.DescribeTablesAsync(Takes, null, mariaDb: true, CancellationToken.None);
            var known = history.KnownTables.ToDictionary(t => $"{t.Database}.{t.Table}");
            Assert.Equal(now.Select(t => $"{t.Database}.{t.Table}").Order(), known.Keys.Order());
            foreach (var server in now)
            {
                var ours = known[$"{server.Database}.{server.Table}"];
                var where = $"after: {sql}\n{server.Database}.{server.Table}";
                Assert.True(server.Columns.Select(Describe).SequenceEqual(ours.Columns.Select(Describe)),
                    $"{where}\nserver: {string.Join(" | ", server.Columns.Select(Describe))}\nours:   {string.Join(" | ", ours.Columns.Select(Describe))}");
                Assert.True(server.PrimaryKey.SequenceEqual(ours.PrimaryKey), $"{where}: key {string.Join(",", server.PrimaryKey)} vs {string.Join(",", ours.PrimaryKey)}");
            }
            output.WriteLine($"ok: {sql}");
        }
    }

    /// <summary>A column as decoding sees it: the TEXT sizes are one family (the server may widen one on CONVERT TO; the
    /// table map carries the size).</summary>
    private static string Describe(PluginHost.Binlog.Events.SchemaColumn c) =>
        $"{c.Name} {(c.DataType is "json" or "tinytext" or "text" or "mediumtext" or "longtext" ? "text" : c.DataType)}{(c.IsUnsigned ? " unsigned" : "")} {Charsets.GetCharsetName(c.Collation)}" +
        $"{(c.Labels is null ? "" : "(" + string.Join(",", c.Labels) + ")")}{(c.FractionalDigits > 0 ? $" fsp{c.FractionalDigits}" : "")}{(c.IsJson ? " json" : "")}";
}
