using PluginHost.Demo;

namespace PluginHost.Benchmarks;

/// <summary>Makes (once, cached under the temp dir) a binlog file holding N inserted rows of a 5-column table.</summary>
internal static class BinlogFixture
{
    public static string Get(int rows)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pluginhost-bench");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"rows-{rows}.binlog");
        if (File.Exists(path)) return path;
        Console.WriteLine($"making a binlog of {rows:N0} rows with a throwaway MariaDB (cached at {path}) …");
        using var db = new ThrowawayMariaDb();
        db.Sql("""
            CREATE DATABASE bench;
            CREATE TABLE bench.orders (
              id INT NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL,
              qty INT NOT NULL, created DATETIME NOT NULL) ENGINE=InnoDB;
            """);
        db.FlushLogs();
        var batch = 100_000;
        for (var start = 1; start <= rows; start += batch)
        {
            var end = Math.Min(rows, start + batch - 1);
            db.Sql($"""
                INSERT INTO bench.orders
                SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100, seq % 50,
                       '2026-01-01 00:00:00' + INTERVAL (seq % 86400) SECOND
                FROM seq_{start}_to_{end};
                """, "bench");
        }
        var file = db.BinlogFiles()[^1];
        db.FlushLogs();
        File.Copy(file, path + ".tmp", overwrite: true);
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }
}
