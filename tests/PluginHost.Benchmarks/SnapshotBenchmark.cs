using static PluginHost.Benchmarks.BenchmarkSupport;
using System.Diagnostics;
using System.Text.Json;
using PluginHost.Binlog.Protocol;
using PluginHost.Demo;
using PluginHost.Sdk;
using PluginHost.Snapshots;

namespace PluginHost.Benchmarks;

/// <summary>
/// The snapshot reader on a 1,000,000-row table in a throwaway MariaDB: chunks of 10,000 into sdk events written as JSON
/// lines to a file (in this process), side by side with <c>mariadb --quick -e "SELECT * …" &gt; /dev/null</c> (a client
/// process) on the same table in the same run; this process's peak RSS during the read. Then the same through the
/// whole host process (<c>pluginhost run</c>, <c>snapshot: initial_only</c> into the file sink, see
/// <see cref="SnapshotHostRun"/>): start to state completed, and the host's peak RSS. Also, on one plain
/// <c>SELECT *</c>: our protocol client's rows (raw, and with every value converted) against MySqlConnector's.
/// </summary>
internal static class SnapshotBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = IntOption(args, "--rows", 1_000_000);
        var chunkSize = IntOption(args, "--chunk", 10_000);
        var rounds = IntOption(args, "--rounds", 1);
        var hostOnly = args.Contains("--host-only"); // diagnosis: only the client and the host process
        var pipelineExtra = StringOption(args, "--pipeline", ""); // diagnosis: more pipeline keys for the host run, e.g. "queue_bytes: 64MiB"
        var sinkExtra = StringOption(args, "--sink", ""); // diagnosis: more file sink keys, e.g. "fsync: false"
        // Comparison: --hosts A.dll,B.dll runs each build in every round (their order alternating), beside the same client.
        string?[] hosts = StringOption(args, "--hosts", "") is { Length: > 0 } list ? list.Split(',') : new string?[] { null };
        PrintLoad();
        using var db = new ThrowawayMariaDb();
        db.Sql("CREATE DATABASE bench; CREATE TABLE bench.orders (id INT NOT NULL PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL, " +
               "qty INT NOT NULL, created DATETIME NOT NULL, updated TIMESTAMP(3) NULL, note VARCHAR(100) NULL);");
        Console.WriteLine($"loading {rows:N0} rows …");
        for (var from = 1; from <= rows; from += 100_000)
            db.Sql($"INSERT INTO bench.orders SELECT seq, CONCAT('customer-', seq % 997), (seq % 100000) / 100, seq % 50, '2026-01-01' + INTERVAL (seq % 86400) SECOND, " +
                   $"'2026-02-01' + INTERVAL (seq % 86400000) * 1000 MICROSECOND, IF(seq % 3 = 0, NULL, CONCAT('note ', seq)) FROM seq_{from}_to_{Math.Min(rows, from + 99_999)};", "bench");
        var connection = new ConnectionOptions { Host = db.Host, Port = db.Port, User = db.User, Password = db.Password, SslMode = SslMode.None };
        var dir = Directory.CreateTempSubdirectory("pluginhost-bench-snapshot-").FullName;
        try
        {
            Cli(db, rows); // warm the buffer pool
            for (var round = 1; round <= rounds; round++)
            {
                var cli = Cli(db, rows);
                Console.WriteLine($"mariadb --quick -e \"SELECT * FROM bench.orders\" > /dev/null (client process): {cli:N0} rows/s");
                if (!hostOnly)
                {
                    var (rate, rss, bytes) = await SnapshotToFileAsync(connection, Path.Combine(dir, "out.jsonl"), rows, chunkSize);
                    Console.WriteLine($"snapshot reader, chunks of {chunkSize:N0} → sdk events → JSON lines file (in-process): {rate:N0} rows/s " +
                                      $"= {rate / cli:P0} of the client; {bytes / 1e6:F0} MB written; peak RSS during the read {rss:F0} MB");
                    File.Delete(Path.Combine(dir, "out.jsonl"));
                }
                foreach (var hostDll in round % 2 == 1 ? hosts : hosts.Reverse())
                {
                    var host = await SnapshotHostRun.RunAsync(db.Port, Path.Combine(dir, $"host-{round}-{Array.IndexOf(hosts, hostDll)}"), rows, chunkSize, pipelineExtra, sinkExtra, hostDll);
                    var cliAfter = Cli(db, rows);
                    var extra = pipelineExtra.Length + sinkExtra.Length > 0 ? $" ({pipelineExtra} {sinkExtra})" : "";
                    var build = hostDll is null ? "" : $" [{hostDll}]";
                    Console.WriteLine($"pluginhost run{build}, snapshot initial_only, chunks of {chunkSize:N0} → file sink{extra} (whole process): {rows / host.FromStart:N0} rows/s from process start " +
                                      $"to state completed ({host.FromStart:F2} s) = {rows / host.FromStart / cli:P0} of the client; to the process's exit {host.ToExit:F2} s; {rows / host.FromFirstRow:N0} rows/s from the first row written " +
                                      $"({rows / host.FromFirstRow / cli:P0}); {host.Bytes / 1e6:F0} MB written; host peak RSS {host.PeakRssMb:F0} MB, CPU {host.CpuSeconds:F2} s; the client again after it: {cliAfter:N0} rows/s");
                    if (hosts.Length > 1) Directory.Delete(Path.Combine(dir, $"host-{round}-{Array.IndexOf(hosts, hostDll)}"), true);
                }
                PrintLoad();
                if (hostOnly) continue;
                var raw = await ProtocolAsync(connection, rows, convert: false);
                var typed = await ProtocolAsync(connection, rows, convert: true);
                var connector = await MySqlConnectorAsync(db, rows);
                Console.WriteLine($"one SELECT * (in-process): our client raw rows {raw:N0} rows/s, every value converted to sdk values {typed:N0} rows/s; " +
                                  $"MySqlConnector 3.0.0 GetValue of every value {connector:N0} rows/s");
                PrintLoad();
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>The mariadb client reading every row to /dev/null: rows/s.</summary>
    private static double Cli(ThrowawayMariaDb db, int rows)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"{ThrowawayMariaDb.FindTool("mariadb")} --no-defaults -uroot --socket={db.SocketPath} --quick -e 'SELECT * FROM bench.orders' > /dev/null");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("mariadb client failed");
        return rows / sw.Elapsed.TotalSeconds;
    }

    private static async Task<(double Rate, double PeakRssMb, long Bytes)> SnapshotToFileAsync(ConnectionOptions connection, string path, int rows, int chunkSize)
    {
        ResetPeakRss();
        var sw = Stopwatch.StartNew();
        long count = 0;
        await using var reader = await ChunkReader.OpenAsync(connection);
        var table = await reader.DescribeAsync("bench", "orders");
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            await using var json = new Utf8JsonWriter(file, ChangeEventJson.WriterOptions);
            SnapshotKey? after = null;
            while (true)
            {
                var result = await reader.ReadChunkAsync(table, after, null, chunkSize, (e, _) =>
                {
                    ChangeEventJson.Write(json, e);
                    json.Flush();
                    file.WriteByte((byte)'\n');
                    json.Reset(file);
                    count++;
                    return ValueTask.CompletedTask;
                });
                if (result.IsExhausted) break;
                after = result.LastKey;
            }
        }
        var rate = count / sw.Elapsed.TotalSeconds;
        if (count != rows) throw new InvalidOperationException($"read {count:N0} rows, expected {rows:N0}");
        return (rate, PeakRssMb(Environment.ProcessId), new FileInfo(path).Length);
    }

    /// <summary>One SELECT * through our client: rows only, or every value converted as the snapshot does.</summary>
    private static async Task<double> ProtocolAsync(ConnectionOptions connection, int rows, bool convert)
    {
        await using var reader = await ChunkReader.OpenAsync(connection);
        var table = await reader.DescribeAsync("bench", "orders");
        await using var c = await MySqlProtocolConnection.OpenAsync(connection);
        await c.ExecuteAsync("SET time_zone = '+00:00', character_set_results = NULL");
        var sw = Stopwatch.StartNew();
        long count = 0;
        await using (var r = await c.QueryRowsAsync("SELECT * FROM bench.orders"))
        {
            var collations = r.Columns.Select(x => x.CharacterSet).ToArray();
            while (await r.ReadAsync())
            {
                if (convert)
                    for (var i = 0; i < collations.Length; i++)
                        if (!r.Row.IsNull(i)) SnapshotValues.ToObject(table.Columns[i], r.Row[i], collations[i]);
                count++;
            }
        }
        if (count != rows) throw new InvalidOperationException($"read {count:N0} rows, expected {rows:N0}");
        return count / sw.Elapsed.TotalSeconds;
    }

    private static async Task<double> MySqlConnectorAsync(ThrowawayMariaDb db, int rows)
    {
        await using var c = new MySqlConnector.MySqlConnection($"Server={db.Host};Port={db.Port};User ID={db.User};Password={db.Password};SslMode=None;" +
                                                               "AllowZeroDateTime=true;ConvertZeroDateTime=false;Pooling=false");
        await c.OpenAsync();
        var sw = Stopwatch.StartNew();
        long count = 0;
        await using (var cmd = new MySqlConnector.MySqlCommand("SELECT * FROM bench.orders", c))
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync())
            {
                for (var i = 0; i < r.FieldCount; i++) r.GetValue(i);
                count++;
            }
        }
        if (count != rows) throw new InvalidOperationException($"read {count:N0} rows, expected {rows:N0}");
        return count / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Resets this process's peak RSS (VmHWM), so the figure after is the read's own.</summary>
    private static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
