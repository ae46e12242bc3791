using System.Text;
using PluginHost.Binlog;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Snapshots;

/// <summary>The protocol client's streaming query (<see cref="MySqlProtocolConnection.QueryRowsAsync"/>) on the real MariaDB.</summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class RowStreamTests(MariaDbServer db)
{
    [Fact]
    public async Task Rows_stream_as_raw_bytes_with_their_column_definitions()
    {
        db.Sql("""
            DROP DATABASE IF EXISTS snap_rows; CREATE DATABASE snap_rows; USE snap_rows;
            CREATE TABLE t (id INT UNSIGNED NOT NULL PRIMARY KEY, l VARCHAR(10) CHARACTER SET latin1, b VARBINARY(4), d DECIMAL(7,3), ts TIMESTAMP(4) NULL);
            INSERT INTO t VALUES (1, _utf8mb4'é', X'00FF', 1.5, '2024-01-02 03:04:05.6789'), (2, NULL, NULL, NULL, NULL);
            """);
        await using var c = await MySqlProtocolConnection.OpenAsync(Repl.Connection(db));
        await c.ExecuteAsync("SET character_set_results = NULL, time_zone = '+00:00'");
        await using (var reader = await c.QueryRowsAsync("SELECT id, l, b, d, ts FROM snap_rows.t ORDER BY id"))
        {
            var cols = reader.Columns;
            Assert.Equal(["id", "l", "b", "d", "ts"], cols.Select(x => x.Name));
            Assert.Equal(("snap_rows", "t", "id"), (cols[0].Database, cols[0].Table, cols[0].OriginalName));
            Assert.Equal(ColumnType.Long, cols[0].Type);
            Assert.True(cols[0].IsUnsigned);
            Assert.True((cols[0].Flags & ColumnFlags.PrimaryKey) != 0);
            Assert.Equal(8, cols[1].CharacterSet); // latin1_swedish_ci, not converted
            Assert.True(cols[2].IsBinary);
            Assert.Equal((ColumnType.NewDecimal, (byte)3), (cols[3].Type, cols[3].Decimals));
            Assert.Equal((ColumnType.Timestamp, (byte)4), (cols[4].Type, cols[4].Decimals));

            Assert.True(await reader.ReadAsync());
            var row = reader.Row;
            Assert.Equal("1"u8.ToArray(), row[0].ToArray());
            Assert.Equal(new byte[] { 0xE9 }, row[1].ToArray()); // latin1 bytes as stored
            Assert.Equal(new byte[] { 0x00, 0xFF }, row[2].ToArray());
            Assert.Equal("1.500", Encoding.ASCII.GetString(row[3]));
            Assert.Equal("2024-01-02 03:04:05.6789", Encoding.ASCII.GetString(row[4]));
            Assert.True(await reader.ReadAsync());
            Assert.Same(row, reader.Row); // reused
            Assert.False(row.IsNull(0));
            Assert.True(row.IsNull(1) && row.IsNull(2) && row.IsNull(3) && row.IsNull(4));
            Assert.False(await reader.ReadAsync());
            Assert.Equal(2, reader.RowsRead);
        }
        Assert.Equal("ok", (await c.QueryAsync("SELECT 'ok'")).Rows[0][0]);
    }

    [Fact]
    public async Task A_row_larger_than_one_packet_is_joined_and_a_reader_left_early_frees_the_connection()
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(Repl.Connection(db) with { ReadTimeout = TimeSpan.FromMinutes(2) });
        // 2 x 10 MB: the row packet is split at 16 MB by the server.
        await using (var reader = await c.QueryRowsAsync("SELECT REPEAT('a', 10000000), REPEAT('b', 10000000), NULL, '', 'end' UNION ALL SELECT 'x', REPEAT('c', 20000000), 'n', 'e', 'end'"))
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(10_000_000, reader.Row[0].Length);
            Assert.True(reader.Row[0].IndexOfAnyExcept((byte)'a') < 0);
            Assert.Equal(10_000_000, reader.Row[1].Length);
            Assert.True(reader.Row[1].IndexOfAnyExcept((byte)'b') < 0);
            Assert.True(reader.Row.IsNull(2));
            Assert.False(reader.Row.IsNull(3));
            Assert.Equal(0, reader.Row[3].Length);
            Assert.Equal("end"u8.ToArray(), reader.Row[4].ToArray());
            Assert.True(await reader.ReadAsync());
            Assert.Equal(20_000_000, reader.Row[1].Length);
            Assert.True(reader.Row[1].IndexOfAnyExcept((byte)'c') < 0);
            Assert.Equal("end"u8.ToArray(), reader.Row[4].ToArray());
            Assert.False(await reader.ReadAsync());
        }

        // Left after one row of many: disposing reads the rest; the connection serves the next query.
        await using (var reader = await c.QueryRowsAsync("SELECT seq FROM mysql.seq_1_to_100000"))
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("1"u8.ToArray(), reader.Row[0].ToArray());
        }
        Assert.Equal("2", (await c.QueryAsync("SELECT 1 + 1")).Rows[0][0]);

        // A statement without a result set, and a server error: both leave the connection usable.
        await using (var reader = await c.QueryRowsAsync("SET @x = 1"))
        {
            Assert.Empty(reader.Columns);
            Assert.False(await reader.ReadAsync());
        }
        await Assert.ThrowsAsync<MySqlServerException>(() => c.QueryRowsAsync("SELECT * FROM no_such_db.t"));
        Assert.True(c.IsUsable);
        Assert.Equal("1", (await c.QueryAsync("SELECT @x")).Rows[0][0]);
    }
}
