using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>
/// Table maps without column metadata (binlog_row_metadata=MINIMAL, then NO_LOG): names, signedness, charsets, ENUM/SET
/// labels and the primary key come from information_schema, and a later ALTER is picked up.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SchemaTests(ITestOutputHelper output)
{
    private const string Row =
        "(id, big, small, neg, e, s, u8, l1, dt) VALUES ({0}, 18446744073709551615, 255, -5, 'green', 'a,c', 'ü€😀漢', 'éßñ', '2024-01-02 03:04:05.678')";

    private static string Expected(int id, string extra = "") =>
        $"m.t Insert - -> {{id={id}, big=18446744073709551615, small=255, neg=-5, e=green, s=a,c, u8=ü€😀漢, l1=éßñ, dt=2024-01-02 03:04:05.678{extra}}}";

    [Fact]
    public async Task Names_signedness_labels_and_charsets_come_from_information_schema()
    {
        using var db = new MariaDbServer("--binlog-row-metadata=MINIMAL");
        db.Sql("""
            CREATE DATABASE m;
            CREATE TABLE m.t (id INT PRIMARY KEY, big BIGINT UNSIGNED, small TINYINT UNSIGNED, neg INT, e ENUM('red','green','blue'),
                s SET('a','b','c'), u8 VARCHAR(20) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, dt DATETIME(3));
            """);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output)));
        await reader.ConnectedAsync();
        Assert.Equal("MINIMAL", reader.Client.Server!.RowMetadata);

        db.Sql("INSERT INTO m.t " + string.Format(Row, 1) + ";");
        var minimal = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent))[^1];
        Assert.False(minimal.Table.HasColumnNames);
        Assert.Equal([Expected(1)], Repl.Render(minimal));
        Assert.Equal([0], minimal.Table.PrimaryKey);

        // NO_LOG: the map has only types; signedness and charsets have to come from information_schema too.
        db.Sql("SET GLOBAL binlog_row_metadata = 'NO_LOG';");
        db.Sql("INSERT INTO m.t " + string.Format(Row, 2) + ";");
        var noLog = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent))[^1];
        Assert.Equal([Expected(2)], Repl.Render(noLog));
        Assert.Equal(18446744073709551615UL, noLog.Rows[0].After![1].UInt64);
        Assert.True(noLog.Table.Columns[1].IsUnsigned);

        // After an ALTER the new column is named (the cached schema was dropped on the DDL).
        db.Sql("ALTER TABLE m.t ADD COLUMN added VARCHAR(10) CHARACTER SET latin1 DEFAULT 'nöw';");
        db.Sql("INSERT INTO m.t " + string.Format(Row, 3) + ";");
        var altered = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent))[^1];
        Assert.Equal([Expected(3, ", added=nöw")], Repl.Render(altered));

        db.Sql("UPDATE m.t SET e = 'blue', s = '', big = 0 WHERE id = 1;");
        var update = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent))[^1];
        Assert.Equal(RowChangeKind.Update, update.Kind);
        Assert.Equal("blue", update.Rows[0].After![4].ToString());
        Assert.Equal("green", update.Rows[0].Before![4].ToString());
        Assert.Equal("", update.Rows[0].After![5].ToString());
        Assert.Equal("added", update.Table.Columns[9].Name);
    }

    [Fact]
    public async Task Renamed_columns_are_picked_up_after_ddl_that_keeps_the_column_count()
    {
        using var db = new MariaDbServer("--binlog-row-metadata=MINIMAL");
        db.Sql("""
            CREATE DATABASE m;
            CREATE TABLE m.r (id INT PRIMARY KEY, a VARCHAR(10), b INT);
            CREATE TABLE m.other (id INT PRIMARY KEY);
            """);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output)));
        await reader.ConnectedAsync();
        Assert.Equal("MINIMAL", reader.Client.Server!.RowMetadata);

        async Task<string[]> InsertAndRead(string sql)
        {
            db.Sql(sql);
            var rows = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent { Table.Table: "r" }))[^1];
            Assert.False(rows.Table.HasColumnNames); // the map itself carries no names: they come from information_schema
            return Repl.Render(rows).ToArray();
        }

        Assert.Equal(["m.r Insert - -> {id=1, a=x, b=10}"], await InsertAndRead("INSERT INTO m.r VALUES (1, 'x', 10);"));

        // RENAME COLUMN, issued with m as the default database and an unqualified table name.
        db.Sql("USE m; ALTER TABLE r RENAME COLUMN a TO alpha;");
        Assert.Equal(["m.r Insert - -> {id=2, alpha=y, b=20}"], await InsertAndRead("INSERT INTO m.r VALUES (2, 'y', 20);"));

        // CHANGE COLUMN with the same type, and DDL on another table in between.
        db.Sql("ALTER TABLE m.r CHANGE COLUMN b beta INT; ALTER TABLE m.other ADD COLUMN z INT;");
        Assert.Equal(["m.r Insert - -> {id=3, alpha=z, beta=30}"], await InsertAndRead("INSERT INTO m.r VALUES (3, 'z', 30);"));

        // Two columns swap their names: positions stay, names follow the schema.
        db.Sql("ALTER TABLE m.r RENAME COLUMN alpha TO tmp; ALTER TABLE m.r RENAME COLUMN id TO alpha; ALTER TABLE m.r RENAME COLUMN tmp TO id;");
        Assert.Equal(["m.r Update {alpha=3, id=z, beta=30} -> {alpha=3, id=zz, beta=30}"],
            await InsertAndRead("UPDATE m.r SET id = 'zz' WHERE alpha = 3;"));
    }
}
