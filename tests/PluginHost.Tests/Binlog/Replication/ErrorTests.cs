using System.Diagnostics;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>Configuration mistakes end the stream at once with a message that says what is wrong (no hang, no retry loop).</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ErrorTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "repl_errors";
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(30); // fails instead of retrying forever (not a speed check)

    private async Task<T> FailsQuickly<T>(BinlogClientOptions options, BinlogPosition? resumeFrom = null) where T : Exception
    {
        var clock = Stopwatch.StartNew();
        await using var reader = new Reader(new BinlogClient(options), resumeFrom, deadline: TimeSpan.FromSeconds(20));
        var error = await Assert.ThrowsAsync<T>(async () => { while (true) await reader.NextAsync(); });
        output.WriteLine($"{typeof(T).Name} after {clock.ElapsedMilliseconds} ms: {error.Message}");
        Assert.True(clock.Elapsed < Quickly, $"took {clock.Elapsed}");
        Assert.Equal(0, reader.Client.Reconnects);
        return error;
    }

    [Fact]
    public async Task Wrong_password_names_the_user()
    {
        db.Sql("DROP USER IF EXISTS 'repl_pw'@'%'; CREATE USER 'repl_pw'@'%' IDENTIFIED BY 'right';");
        var error = await FailsQuickly<MySqlAuthenticationException>(Repl.Options(db, BinlogStart.Latest, output, user: "repl_pw", password: "wrong"));
        Assert.Contains("repl_pw", error.Message);
        Assert.Equal(1045, error.ServerErrorCode);
    }

    [Fact]
    public async Task Nothing_listening_names_host_and_port()
    {
        var options = Repl.Options(db, BinlogStart.Latest, output);
        var port = MariaDbServer.FreePort();
        options = options with { Connection = options.Connection with { Port = port } };
        var error = await FailsQuickly<MySqlConnectionException>(options);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task Missing_privileges_are_named()
    {
        db.Sql($"""
            CREATE DATABASE IF NOT EXISTS {Db};
            DROP USER IF EXISTS 'repl_none'@'%'; CREATE USER 'repl_none'@'%' IDENTIFIED BY 'pw';
            DROP USER IF EXISTS 'repl_partial'@'%'; CREATE USER 'repl_partial'@'%' IDENTIFIED BY 'pw';
            GRANT REPLICATION SLAVE ON *.* TO 'repl_partial'@'%'; GRANT SELECT ON {Db}.* TO 'repl_partial'@'%';
            DROP USER IF EXISTS 'repl_ok'@'%'; CREATE USER 'repl_ok'@'%' IDENTIFIED BY 'pw';
            GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'repl_ok'@'%'; GRANT SELECT ON {Db}.* TO 'repl_ok'@'%';
            """);

        var none = await FailsQuickly<BinlogReplicationException>(Repl.Options(db, BinlogStart.Latest, output, user: "repl_none", password: "pw"));
        Assert.Contains("repl_none", none.Message);
        Assert.Contains("REPLICATION SLAVE", none.Message);
        Assert.Contains("BINLOG MONITOR", none.Message);
        Assert.Contains("REPLICATION CLIENT", none.Message);
        Assert.Contains("SELECT", none.Message);

        var partial = await FailsQuickly<BinlogReplicationException>(Repl.Options(db, BinlogStart.Latest, output, user: "repl_partial", password: "pw"));
        Assert.Contains("BINLOG MONITOR", partial.Message);
        Assert.DoesNotContain("REPLICATION SLAVE", partial.Message);
        Assert.DoesNotContain("SELECT", partial.Message[..partial.Message.IndexOf("Grant", StringComparison.Ordinal)]);

        // The least a replication user needs is enough.
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output, user: "repl_ok", password: "pw")));
        await reader.ConnectedAsync();
        db.Sql($"CREATE TABLE IF NOT EXISTS {Db}.t (id INT PRIMARY KEY); REPLACE INTO {Db}.t VALUES (1);");
        await reader.UntilAsync(e => e is RowsEvent r && r.Table.Database == Db);
    }

    [Fact]
    public async Task Start_file_that_does_not_exist_is_not_available()
    {
        var error = await FailsQuickly<BinlogNotAvailableException>(Repl.Options(db, BinlogStart.At("mysql-bin.999999", 4), output));
        Assert.Contains("mysql-bin.999999", error.Message);
        // A checkpoint naming a missing file fails the same way.
        await FailsQuickly<BinlogNotAvailableException>(Repl.Options(db, BinlogStart.Latest, output), new BinlogPosition("mysql-bin.999998", 4));
    }

    [Fact]
    public async Task Gtid_the_server_never_had_is_not_available()
    {
        // Far ahead of the server's binlog, and from a server id that never wrote in domain 0.
        var ahead = await FailsQuickly<BinlogNotAvailableException>(Repl.Options(db, BinlogStart.AtGtid("0-1-999999999"), output));
        Assert.Contains("0-1-999999999", ahead.Message);
        await FailsQuickly<BinlogNotAvailableException>(Repl.Options(db, BinlogStart.AtGtid("0-77-1"), output));
    }
}

/// <summary>Errors that need a server of their own: statement-based logging, purged binlog files.</summary>
[Trait("Category", "Integration")]
public sealed class ServerSetupErrorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Statement_based_binlog_is_refused_naming_binlog_format_row()
    {
        using var db = new MariaDbServer("--binlog-format=STATEMENT");
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output)), deadline: TimeSpan.FromSeconds(20));
        var error = await Assert.ThrowsAsync<BinlogReplicationException>(() => reader.NextAsync());
        output.WriteLine(error.Message);
        Assert.Contains("binlog_format=ROW", error.Message);
        Assert.Contains("STATEMENT", error.Message);
    }

    [Fact]
    public async Task Binary_logging_off_is_refused_naming_log_bin()
    {
        using var db = new MariaDbServer("--skip-log-bin");
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Latest, output)), deadline: TimeSpan.FromSeconds(20));
        var error = await Assert.ThrowsAsync<BinlogReplicationException>(() => reader.NextAsync());
        output.WriteLine(error.Message);
        Assert.Contains("log_bin", error.Message);
        Assert.Contains($"127.0.0.1:{db.Port}", error.Message);
    }

    [Fact]
    public async Task Purged_start_file_is_not_available_quickly()
    {
        using var db = new MariaDbServer(extraArgs: null);
        db.Sql("CREATE DATABASE p; CREATE TABLE p.t (id INT PRIMARY KEY); INSERT INTO p.t VALUES (1);");
        var first = Path.GetFileName(db.BinlogFiles()[0]);
        db.FlushLogs();
        db.Sql("INSERT INTO p.t VALUES (2);");
        var third = db.FlushLogs();
        // The server keeps a file until InnoDB has flushed the commits in it (binlog checkpoint): retry the purge until it goes.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            db.Sql($"PURGE BINARY LOGS TO '{third}';");
            if (Path.GetFileName(db.BinlogFiles()[0]) == third) break;
            Assert.True(DateTime.UtcNow < deadline, "PURGE BINARY LOGS kept the old files: " + string.Join(", ", db.BinlogFiles()));
            db.Sql("FLUSH TABLES;");
            await Task.Delay(100);
        }

        var clock = Stopwatch.StartNew();
        await using (var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(first, 4), output)), deadline: TimeSpan.FromSeconds(20)))
        {
            var error = await Assert.ThrowsAsync<BinlogNotAvailableException>(async () => { while (true) await reader.NextAsync(); });
            output.WriteLine($"after {clock.ElapsedMilliseconds} ms: {error.Message}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
            Assert.Equal(0, reader.Client.Reconnects);
        }

        // A GTID from before the purge is gone as well; earliest now means the oldest remaining file.
        await using (var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.AtGtid("0-1-1"), output)), deadline: TimeSpan.FromSeconds(20)))
            await Assert.ThrowsAsync<BinlogNotAvailableException>(async () => { while (true) await reader.NextAsync(); });
        await using (var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.Earliest, output))))
        {
            await reader.ConnectedAsync();
            Assert.Equal(third, reader.Client.CurrentFile);
        }
    }
}
