using System.Diagnostics;
using System.Runtime.InteropServices;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>The dump connection is killed by the server in the middle of a large transaction: the client comes back by itself.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ReconnectTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "repl_reconnect";

    [Fact]
    public async Task Killed_dump_connection_reconnects_and_every_row_arrives_exactly_once_in_order()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; " +
               $"CREATE TABLE {Db}.big (id INT PRIMARY KEY, tx INT, n INT, pad VARCHAR(1000)) ENGINE=InnoDB;" +
               $"CREATE TABLE {Db}.marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;");
        var (file, pos) = Repl.MasterStatus(db);
        // Ten transactions of about 1.8 MB each (several statements, hundreds of rows events each): far more than the
        // socket buffers hold, so the connection dies while the client is inside a transaction.
        for (var tx = 1; tx <= 10; tx++)
        {
            db.Sql($"""
                USE {Db}; BEGIN;
                INSERT INTO big SELECT {tx} * 100000 + seq, {tx}, seq, REPEAT(CHAR(64 + {tx}), 900) FROM seq_1_to_1000;
                UPDATE big SET n = -n WHERE tx = {tx} AND id % 7 = 0;
                INSERT INTO big SELECT {tx} * 100000 + 1000 + seq, {tx}, seq, REPEAT('z', 900) FROM seq_1_to_800;
                DELETE FROM big WHERE tx = {tx} AND id % 11 = 0;
                COMMIT;
                """);
        }
        var marker = "reconnect-end-" + Guid.NewGuid().ToString("N");
        db.Sql(Workload.Marker(Db, marker));

        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        // Into the second transaction, then the server kills the dump thread.
        var rowsEventsOfTx2 = 0;
        await reader.UntilAsync(e => e is RowsEvent r && r.Table.Table == "big" && TxOf(r) == 2 && ++rowsEventsOfTx2 == 20);
        var dumps = db.Sql("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump';")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(dumps);
        db.Sql($"KILL {dumps[0]};");
        output.WriteLine($"killed dump thread {dumps[0]} at {reader.Seen[^1]}");

        // Read to the end, noting where the loss was noticed.
        bool? midTransactionAtLoss = null;
        while (true)
        {
            var inTransaction = reader.Client.CurrentGtid != null;
            var reconnectsBefore = reader.Client.Reconnects;
            var e = await reader.NextAsync();
            if (reconnectsBefore == 0 && reader.Client.Reconnects > 0)
            {
                midTransactionAtLoss = inTransaction;
                output.WriteLine($"first event after the reconnect: {e} in {reader.Client.CurrentFile}; the client was {(inTransaction ? "inside" : "between")} transactions");
            }
            if (Repl.IsMarker(e, "marker", marker)) break;
        }

        Assert.Equal(1, reader.Client.Reconnects);
        Assert.True(midTransactionAtLoss, "the connection loss was noticed between transactions; the test wants it inside one");
        var expected = Repl.Rows(Repl.UpToMarker(Repl.DecodeFiles(db, file, pos), "marker", marker), Db);
        var actual = Repl.Rows(reader.Seen, Db);
        output.WriteLine($"{actual.Count} rows, {reader.Client.BytesReceived} bytes received");
        Repl.SameRows(expected, actual, "rows across the reconnect");
        // Events of the stream (not only rows) are not repeated either.
        var positions = reader.Seen.Where(e => e.Header.NextPosition != 0 && e is not (RotateEvent or FormatDescriptionEvent or HeartbeatEvent))
            .Select(e => e.Header.NextPosition).ToList();
        Assert.Equal(positions.Count, positions.Distinct().Count());
    }

    private static int TxOf(RowsEvent e) => (int)(e.Rows[0].After ?? e.Rows[0].Before)![1].Int64;
}

/// <summary>A frozen server (SIGSTOP) is detected by the missing heartbeats; the client reconnects once it is back.</summary>
[Trait("Category", "Integration")]
public sealed class FrozenServerTests(ITestOutputHelper output)
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int SigCont = 18;
    private const int SigStop = 19;

    [Fact]
    public async Task Silent_server_is_detected_by_heartbeat_timeout_and_the_client_recovers()
    {
        using var db = new MariaDbServer(extraArgs: null);
        db.Sql("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, v VARCHAR(20));");
        var pid = int.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(db.DataDir)!, "mysqld.pid")).Trim());
        var options = Repl.Options(db, BinlogStart.Latest, output, heartbeat: TimeSpan.FromMilliseconds(300));
        options = options with { Connection = options.Connection with { ConnectTimeout = TimeSpan.FromSeconds(1) } };
        await using var reader = new Reader(new BinlogClient(options));
        await reader.ConnectedAsync();
        db.Sql("INSERT INTO f.t VALUES (1, 'before');");
        await reader.UntilAsync(e => e is RowsEvent);
        await reader.UntilAsync(e => e is HeartbeatEvent);

        var waiting = reader.UntilAsync(e => e is RowsEvent);
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, kill(pid, SigStop));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3.5)); // > 3 heartbeat periods + 1 s of silence
        }
        finally
        {
            Assert.Equal(0, kill(pid, SigCont));
        }
        output.WriteLine($"server resumed after {clock.ElapsedMilliseconds} ms");
        db.Sql("INSERT INTO f.t VALUES (2, 'after');");
        var events = await waiting;
        output.WriteLine($"row after the freeze arrived {clock.ElapsedMilliseconds} ms after the stop");
        var rows = Repl.Rows(events);
        Assert.Equal(["f.t Insert - -> {id=2, v=after}"], rows);
        Assert.True(reader.Client.Reconnects >= 1, "the client did not notice the silent server");
        Assert.Single(Repl.Rows(reader.Seen), r => r.Contains("before"));
        // And it keeps streaming (heartbeats again).
        await reader.UntilAsync(e => e is HeartbeatEvent);
    }
}
