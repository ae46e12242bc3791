using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>Where a stream starts (latest, earliest, file+position, GTID), where it says it is, and resuming from it.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class StartModeTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "repl_start";

    private void Reset() =>
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; CREATE TABLE {Db}.t (id INT PRIMARY KEY, tx INT, v VARCHAR(20)) ENGINE=InnoDB;" +
               $"CREATE TABLE {Db}.marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;");

    /// <summary>Transaction <paramref name="tx"/>: three statements on rows 100·tx+1…; returns @@gtid_binlog_pos after its commit.</summary>
    private string Transaction(int tx) => db.Sql(
        $"USE {Db}; BEGIN; INSERT INTO t (id, tx, v) VALUES ({tx * 100 + 1}, {tx}, 'a'), ({tx * 100 + 2}, {tx}, 'b'); " +
        $"UPDATE t SET v = 'u' WHERE id = {tx * 100 + 1}; DELETE FROM t WHERE id = {tx * 100 + 2}; COMMIT; SELECT @@GLOBAL.gtid_binlog_pos;").Trim();

    private static int TxOf(RowsEvent e) => (int)(e.Rows[0].After ?? e.Rows[0].Before)![1].Int64;

    private string Marker()
    {
        var marker = "m-" + Guid.NewGuid().ToString("N");
        db.Sql(Workload.Marker(Db, marker));
        return marker;
    }

    [Fact]
    public async Task Latest_sees_only_changes_made_after_it_connected()
    {
        Reset();
        Transaction(1);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output)));
        await reader.ConnectedAsync();
        Transaction(2);
        var marker = Marker();
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        var txs = events.OfType<RowsEvent>().Where(e => e.Table.Table == "t").Select(TxOf).Distinct().ToList();
        Assert.Equal([2], txs);
    }

    [Fact]
    public async Task Earliest_starts_at_the_oldest_binlog_file()
    {
        Reset();
        var oldest = Path.GetFileName(db.BinlogFiles()[0]);
        var marker = Marker();
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Earliest, output)));
        await reader.ConnectedAsync();
        Assert.Equal(oldest, reader.Client.CurrentFile);
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        // Every event the files hold, from the first one of the oldest file, in order. (Compared by position, not decoded:
        // older files may hold table maps without metadata of tables that have changed since.)
        var received = reader.FileEvents();
        Assert.Equal((oldest, 4L), received[0]);
        var expected = Repl.RawPositions(db, oldest, received[^1]);
        Assert.Equal(expected.Count, received.Count);
        Assert.Equal(expected, received);
        Assert.Equal([Marker0(marker)], Repl.Rows(events.Where(e => Repl.IsMarker(e, "marker", marker))));
    }

    private static string Marker0(string marker) => $"{Db}.marker Insert - -> {{id=1, v={marker}}}";

    [Fact]
    public async Task File_and_position_start_exactly_there()
    {
        Reset();
        Transaction(1);
        var (file, pos) = Repl.MasterStatus(db);
        Transaction(2);
        Transaction(3);
        var marker = Marker();
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        Assert.Equal([2, 3], events.OfType<RowsEvent>().Where(e => e.Table.Table == "t").Select(TxOf).Distinct());
        var first = events.First(e => e.Header.NextPosition != 0 && e is not (RotateEvent or FormatDescriptionEvent));
        Assert.Equal(pos, first.Header.Position);
    }

    [Fact]
    public async Task Gtid_start_continues_right_after_that_transaction()
    {
        Reset();
        var gtids = new List<string>();
        for (var tx = 1; tx <= 5; tx++) gtids.Add(Transaction(tx));
        var marker = Marker();
        // gtid_binlog_pos after transaction 2 is "0-1-N": the stream must start with transaction 3, GTID 0-1-(N+1).
        var after2 = gtids[1];
        Assert.Matches(@"^0-1-\d+$", after2);
        var seq = long.Parse(after2.Split('-')[2]);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.AtGtid(after2), output)));
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        var firstGtid = events.OfType<MariaDbGtidEvent>().First();
        Assert.Equal($"0-1-{seq + 1}", firstGtid.Gtid);
        var rows = events.OfType<RowsEvent>().ToList();
        Assert.Equal(3, TxOf(rows[0]));
        Assert.Equal([3, 4, 5], rows.Where(e => e.Table.Table == "t").Select(TxOf).Distinct());
        await reader.UntilAsync(e => e is XidEvent); // the marker's commit
        Assert.Equal(Repl.GtidBinlogPos(db), reader.Client.Committed!.Gtid);
        Repl.AtEndOfTransactions(db, reader.Client.Committed);
    }

    [Fact]
    public async Task Committed_moves_only_at_transaction_ends_and_ends_at_the_servers_gtid_position()
    {
        Reset();
        db.Sql($"CREATE TABLE {Db}.my (id INT PRIMARY KEY) ENGINE=MyISAM; CREATE TABLE {Db}.aria (id INT PRIMARY KEY) ENGINE=Aria;");
        var (file, pos) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        await reader.ConnectedAsync();
        var start = reader.Client.Committed!;
        Assert.Equal((file, pos), (start.File, start.Position));
        Assert.Equal(db.Sql($"SELECT BINLOG_GTID_POS('{file}', {pos});").Trim(), start.Gtid);

        // Every kind of event group: InnoDB transactions, DDL, a savepoint rolled back over a non-transactional change,
        // non-transactional statements, CREATE ... SELECT, XA PREPARE + XA COMMIT, XA ONE PHASE, and a rotation.
        Transaction(1);
        Transaction(2);
        db.Sql($"USE {Db}; ALTER TABLE t ADD COLUMN w INT;");
        db.Sql($"USE {Db}; BEGIN; INSERT INTO t (id, tx) VALUES (301, 3); SAVEPOINT s; INSERT INTO my VALUES (1); ROLLBACK TO SAVEPOINT s; " +
               "INSERT INTO t (id, tx) VALUES (302, 3); COMMIT;");
        db.Sql($"USE {Db}; INSERT INTO aria VALUES (1); CREATE TABLE copy SELECT * FROM t;");
        db.FlushLogs();
        db.Sql($"USE {Db}; XA START 'x1'; INSERT INTO t (id, tx) VALUES (401, 4); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1';");
        db.Sql($"USE {Db}; XA START 'x2'; INSERT INTO t (id, tx) VALUES (501, 5); XA END 'x2'; XA COMMIT 'x2' ONE PHASE;");
        Transaction(6);
        var marker = Marker();

        // Read to the marker's commit, noting Committed after every event.
        var steps = new List<(BinlogEvent Event, string File, BinlogPosition Committed, string? Gtid)>();
        var sawMarker = false;
        while (true)
        {
            var e = await reader.NextAsync();
            steps.Add((e, reader.Client.CurrentFile!, reader.Client.Committed!, reader.Client.CurrentGtid));
            sawMarker |= Repl.IsMarker(e, "marker", marker);
            if (sawMarker && e is XidEvent) break;
        }

        // The oracle: a group (GTID event ... ) ends with the last event before the next GTID event.
        var inGroups = steps.Where(s => s.Event is not (HeartbeatEvent or RotateEvent or FormatDescriptionEvent or MariaDbGtidListEvent)
                                        && s.Event.Header.EventType != PluginHost.Binlog.BinlogEventType.MariaDbBinlogCheckpoint).ToList();
        var ends = new HashSet<BinlogEvent>();
        string? groupGtid = null;
        var endGtid = new Dictionary<BinlogEvent, string>();
        for (var i = 0; i < inGroups.Count; i++)
        {
            if (inGroups[i].Event is MariaDbGtidEvent g) groupGtid = g.Gtid;
            if (i == inGroups.Count - 1 || inGroups[i + 1].Event is MariaDbGtidEvent)
            {
                ends.Add(inGroups[i].Event);
                endGtid[inGroups[i].Event] = groupGtid!;
            }
        }
        var previous = start;
        foreach (var (e, f, committed, current) in steps)
        {
            if (ends.Contains(e))
            {
                Assert.Equal(new BinlogPosition(f, e.Header.NextPosition, endGtid[e]), committed);
                Assert.Null(current);
            }
            else if (e is RotateEvent { IsArtificial: false } r)
                Assert.Equal(new BinlogPosition(r.NextFile, 4, previous.Gtid), committed);
            else
            {
                Assert.True(previous == committed, $"Committed moved at {e} from {previous} to {committed}");
                if (e is RowsEvent) Assert.NotNull(current);
            }
            previous = committed;
        }
        Assert.True(ends.Count >= 11, $"{ends.Count} groups");
        Assert.Equal(Repl.GtidBinlogPos(db), reader.Client.Committed!.Gtid);
        Repl.AtEndOfTransactions(db, reader.Client.Committed);
    }

    [Fact]
    public async Task Resuming_from_a_committed_position_taken_mid_transaction_continues_with_the_next_transaction()
    {
        Reset();
        var (file, pos) = Repl.MasterStatus(db);
        for (var tx = 1; tx <= 6; tx++) Transaction(tx);
        var marker = Marker();

        BinlogPosition committed;
        await using (var first = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output))))
        {
            // Stop in the middle of transaction 4: after its first rows event, before its commit.
            await first.UntilAsync(e => e is RowsEvent r && r.Table.Table == "t" && TxOf(r) == 4);
            committed = first.Client.Committed!;
            Assert.NotNull(first.Client.CurrentGtid);
        }
        output.WriteLine($"resuming from {committed}");

        var options = Repl.Options(db, BinlogStart.Latest, output); // the resume position wins over the start
        await using var second = new Reader(new BinlogClient(options), committed);
        var events = await second.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        var rows = Repl.Rows(events, Db).Where(r => r.StartsWith(Db + ".t ")).ToList();
        var expected = Repl.Rows(Repl.UpToMarker(Repl.DecodeFiles(db, file, pos), "marker", marker), Db)
            .Where(r => r.StartsWith(Db + ".t ")).ToList();
        // Transactions 4, 5, 6 in full (4 rows each: 2 inserts, 1 update, 1 delete), none of 1-3.
        Repl.SameRows(expected.Skip(3 * 4).ToList(), rows, "resumed stream");
        Assert.Equal(4, TxOf(events.OfType<RowsEvent>().First()));
    }
}
