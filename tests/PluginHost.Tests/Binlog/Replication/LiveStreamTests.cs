using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>The live replication stream carries exactly the rows a decode of the binlog files shows.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class LiveStreamTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "repl_live";

    [Fact]
    public async Task Live_stream_equals_file_decode_across_ddl_and_rotation()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db};");
        var (file, pos) = Repl.MasterStatus(db);
        var marker = "live-end-" + Guid.NewGuid().ToString("N");

        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        await reader.ConnectedAsync();
        Assert.Equal(file, reader.Client.CurrentFile);

        // Written while the client is tailing: several transactions on several tables, DDL and a rotation in between.
        var workload = new Workload(Db, seed: 20240611);
        var rotatedTo = "";
        var writer = Task.Run(() =>
        {
            db.Sql(workload.CreateTables());
            for (var t = 0; t < 6; t++) db.Sql(workload.Transaction(30));
            rotatedTo = db.FlushLogs();
            db.Sql(workload.AddColumn());
            for (var t = 0; t < 6; t++) db.Sql(workload.Transaction(30));
            db.Sql($"USE {Db}; CREATE TABLE late (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO late VALUES (1, 'a'), (2, 'b'); UPDATE late SET v = 'c';");
            db.Sql(Workload.Marker(Db, marker));
        });
        reader.Watch(writer);

        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        await writer;
        var expected = Repl.Rows(Repl.UpToMarker(Repl.DecodeFiles(db, file, pos), "marker", marker), Db);
        var actual = Repl.Rows(reader.Seen, Db);
        output.WriteLine($"{workload.Statements} statements, {actual.Count} rows, rotated to {rotatedTo}, {reader.Client.BytesReceived} bytes");
        Assert.True(expected.Count > 300, $"only {expected.Count} rows in the workload");
        Repl.SameRows(expected, actual, "live stream vs file decode");

        // The rotation was followed: a real rotate to the new file, and the client now reads it.
        Assert.Contains(events, e => e is RotateEvent { IsArtificial: false } r && r.NextFile == rotatedTo);
        Assert.Equal(rotatedTo, reader.Client.CurrentFile);
        Assert.Equal(rotatedTo, reader.Client.Committed!.File);
        // Column names came from the table maps (FULL metadata) and the added column shows up after the ALTER.
        Assert.Contains(actual, r => r.Contains("extra="));
        Assert.All(actual, r => Assert.DoesNotContain("@1=", r));
        Assert.Equal(0, reader.Client.Reconnects);
    }

    [Fact]
    public async Task Stream_from_an_older_file_crosses_the_rotation_it_already_passed()
    {
        // Written first, read afterwards: the client has to walk through the closed file and the rotate into the next one.
        db.Sql($"DROP DATABASE IF EXISTS {Db}2; CREATE DATABASE {Db}2;");
        var (file, pos) = Repl.MasterStatus(db);
        var workload = new Workload(Db + "2", seed: 7);
        db.Sql(workload.CreateTables());
        db.Sql(workload.Transaction(40));
        db.FlushLogs();
        db.Sql(workload.Transaction(40));
        db.FlushLogs();
        db.Sql(workload.Transaction(40));
        var marker = "flushed-end-" + Guid.NewGuid().ToString("N");
        db.Sql(Workload.Marker(Db + "2", marker));

        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", marker));
        var expected = Repl.Rows(Repl.UpToMarker(Repl.DecodeFiles(db, file, pos), "marker", marker), Db + "2");
        Repl.SameRows(expected, Repl.Rows(events, Db + "2"), "stream over two rotations vs file decode");
        Assert.Equal(2, events.Count(e => e is RotateEvent { IsArtificial: false }));
    }

    [Fact]
    public async Task Rows_larger_than_one_protocol_packet_arrive_whole()
    {
        // A 17 MB row makes a rows event longer than 16 MB - 1: the server splits it over several packets.
        db.Sql($"DROP DATABASE IF EXISTS {Db}3; CREATE DATABASE {Db}3; CREATE TABLE {Db}3.b (id INT PRIMARY KEY, v LONGBLOB, w LONGTEXT CHARACTER SET utf8mb4);");
        var (file, pos) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)));
        db.Sql($"INSERT INTO {Db}3.b VALUES (1, REPEAT(UNHEX('00FF7F80'), 17 * 1024 * 256), REPEAT('ü', 10)), (2, 'small', REPEAT('€', 3 * 1024 * 1024));" +
               $"UPDATE {Db}3.b SET w = CONCAT(w, 'x') WHERE id = 1;");
        var events = await reader.UntilAsync(e => e is RowsEvent { Kind: RowChangeKind.Update });
        var rows = events.OfType<RowsEvent>().ToList();
        Assert.Equal(17 * 1024 * 1024, rows[0].Rows[0].After![1].RawBytes.Length);
        Assert.Equal(3 * 1024 * 1024, rows.SelectMany(r => r.Rows).Single(r => r.After![0].Int64 == 2).After![2].AsString().Length);
        var expected = Repl.DecodeFiles(db, file, pos).OfType<RowsEvent>().Where(e => e.Table.Database == Db + "3").SelectMany(Repl.Render).ToList();
        Repl.SameRows(expected, Repl.Rows(events, Db + "3"), "large rows");
        Assert.True(reader.Client.BytesReceived > 2 * 17 * 1024 * 1024);
    }
}
