using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Api;

/// <summary>
/// No single call loses a position: seeks are checked against the real MariaDB before anything is written, every
/// pipeline keeps a history of its positions that a seek can go back to, and positions read the same everywhere.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiSeekSafetyTests(MariaDbServer db)
{
    private static string NewDatabase(MariaDbServer server)
    {
        var name = "seek_" + Guid.NewGuid().ToString("N")[..8];
        server.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));");
        return name;
    }

    private static string CheckpointPath(ApiTestHost host, string name) => Path.Combine(host.Dir, "state", name + ".checkpoint.json");

    /// <summary>Posts a seek that must be refused with a 400 naming <paramref name="field"/>, and the stored checkpoint stays byte for byte.</summary>
    private static async Task<string> Refused(ApiTestHost host, string name, string body, string field)
    {
        var before = await File.ReadAllBytesAsync(CheckpointPath(host, name));
        var (status, problem, _) = await host.PostAsync($"pipelines/{name}/seek", body);
        Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {status} {problem}");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"{body}: {problem}");
        Assert.Equal(before, await File.ReadAllBytesAsync(CheckpointPath(host, name)));
        return messages[0].GetString()!;
    }

    [Fact]
    public async Task A_seek_the_server_cannot_serve_is_refused_and_the_checkpoint_stays_byte_for_byte()
    {
        var database = NewDatabase(db);
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "guard", database));
        await host.WaitForStateAsync("guard", "running");
        db.Sql("INSERT INTO t VALUES (1,'a'),(2,'b');", database);
        await host.WaitForCheckpointAsync("guard", 2);
        Assert.Equal("paused", (await host.PostAsync("pipelines/guard/pause")).Body.GetProperty("state").GetString());
        var position = (await host.PipelineAsync("guard")).GetProperty("position").GetProperty("text").GetString();

        // GTIDs the server never had: past its newest sequence, another domain, another server id.
        var newest = db.Sql("SELECT @@gtid_binlog_pos;").Trim().Split(',')[0].Split('-');
        var past = await Refused(host, "guard", $$"""{"gtid":"{{newest[0]}}-{{newest[1]}}-999999999"}""", "gtid");
        Assert.Contains("never had", past);
        Assert.Contains("domain", await Refused(host, "guard", """{"gtid":"4077-1-5"}""", "gtid"));
        Assert.Contains("server id 4242", await Refused(host, "guard", $$"""{"gtid":"{{newest[0]}}-4242-1"}""", "gtid"));

        // Positions: a file the server does not have; an offset inside an event; an event inside a transaction.
        var file = db.Sql("SHOW MASTER STATUS;").Split('\t')[0];
        await Refused(host, "guard", """{"file":"mysql-bin.999999","pos":4}""", "file");
        var events = db.Sql($"SHOW BINLOG EVENTS IN '{file}';").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        var gtidEvent = events.Last(e => e[2] == "Gtid");
        Assert.Contains("no event starts", await Refused(host, "guard", $$"""{"file":"{{file}}","pos":{{long.Parse(gtidEvent[1]) + 1}}}""", "pos"));
        var tableMap = events.Last(e => e[2] == "Table_map");
        Assert.Contains("inside a transaction", await Refused(host, "guard", $$"""{"file":"{{file}}","pos":{{tableMap[1]}}}""", "pos"));
        await Refused(host, "guard", """{"checkpoint":987654}""", "checkpoint");

        // Nothing moved: still paused where it was; a valid place is still taken (the start of the last transaction).
        var after = await host.PipelineAsync("guard");
        Assert.Equal("paused", after.GetProperty("state").GetString());
        Assert.Equal(position, after.GetProperty("position").GetProperty("text").GetString());
        var (ok, moved, _) = await host.PostAsync("pipelines/guard/seek", $$"""{"file":"{{file}}","pos":{{gtidEvent[1]}}}""");
        Assert.True(ok == HttpStatusCode.OK, moved.ToString());
        Assert.Equal(long.Parse(gtidEvent[1]), moved.GetProperty("position").GetProperty("pos").GetInt64());
    }

    [Fact]
    public async Task A_gtid_or_file_the_server_purged_is_refused()
    {
        using var server = new MariaDbServer(extraArgs: null);
        var database = NewDatabase(server);
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(server, "purged", database));
        await host.WaitForStateAsync("purged", "running");
        server.Sql("INSERT INTO t VALUES (1,'a');", database);
        var old = server.Sql("SELECT @@gtid_binlog_pos;").Trim();
        var oldFile = server.Sql("SHOW MASTER STATUS;").Split('\t')[0];
        server.Sql("INSERT INTO t VALUES (2,'b');", database);
        await host.WaitForCheckpointAsync("purged", 2);
        server.FlushLogs();
        server.Sql("INSERT INTO t VALUES (3,'c');", database);
        await host.WaitForCheckpointAsync("purged", 3);
        await host.PostAsync("pipelines/purged/pause");
        var current = server.Sql("SHOW MASTER STATUS;").Split('\t')[0];
        for (var i = 0; i < 50 && Path.GetFileName(server.BinlogFiles()[0]) != current; i++)
        {
            server.Sql($"PURGE BINARY LOGS TO '{current}';"); // a file still needed for crash recovery is kept a moment longer
            await Task.Delay(100);
        }
        Assert.Equal(current, Path.GetFileName(server.BinlogFiles()[0]));

        Assert.Contains("purged", await Refused(host, "purged", $$"""{"gtid":"{{old}}"}""", "gtid"));
        await Refused(host, "purged", $$"""{"file":"{{oldFile}}","pos":4}""", "file");
        // The GTID the remaining binlog starts from is fine.
        var start = server.Sql($"SELECT BINLOG_GTID_POS('{current}', 4);").Trim();
        var (ok, body, _) = await host.PostAsync("pipelines/purged/seek", $$"""{"gtid":"{{start}}"}""");
        Assert.True(ok == HttpStatusCode.OK, body.ToString());
    }

    [Fact]
    public async Task History_lists_saves_and_seeks_survives_a_restart_and_a_seek_goes_back_to_an_earlier_checkpoint()
    {
        var database = NewDatabase(db);
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "back", database, extra: "    checkpoint: { type: file, history_interval: 0s }"));
        var host = await ApiTestHost.StartAsync(dir);
        try
        {
            await host.WaitForStateAsync("back", "running");
            for (var i = 1; i <= 3; i++)
            {
                db.Sql($"INSERT INTO t VALUES ({i},'v{i}');", database);
                await host.WaitForCheckpointAsync("back", i);
            }
            var (status, history, _) = await host.GetAsync("pipelines/back/checkpoints");
            Assert.True(status == HttpStatusCode.OK, history.ToString());
            var saved = history.EnumerateArray().Where(h => h.GetProperty("reason").GetString() == "saved").ToList();
            Assert.True(saved.Count >= 3, history.ToString());
            var ids = history.EnumerateArray().Select(h => h.GetProperty("id").GetInt64()).ToList();
            Assert.Equal(ids.OrderDescending(), ids); // newest first
            var current = (await host.PipelineAsync("back")).GetProperty("position");
            Assert.Equal(current.GetProperty("text").GetString(), saved[0].GetProperty("position").GetProperty("text").GetString());
            var afterFirst = saved.First(h => h.GetProperty("position").GetProperty("events_delivered").GetInt64() == 1);

            // latest replaces the position: it is kept as "before seek", the new one as "seek".
            Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("pipelines/back/seek", "\"latest\"")).Status);
            (_, history, _) = await host.GetAsync("pipelines/back/checkpoints");
            var (newest, replaced) = (history[0], history[1]);
            Assert.Equal("seek", newest.GetProperty("reason").GetString());
            Assert.Equal("seek to latest", newest.GetProperty("note").GetString());
            Assert.Equal("before seek", replaced.GetProperty("reason").GetString());
            Assert.Equal(current.GetProperty("text").GetString(), replaced.GetProperty("position").GetProperty("text").GetString());
            Assert.Equal(current.GetProperty("file").GetString(), replaced.GetProperty("position").GetProperty("file").GetString());
            Assert.Equal(current.GetProperty("pos").GetInt64(), replaced.GetProperty("position").GetProperty("pos").GetInt64());

            // Going back: to the checkpoint after the first row; rows 2 and 3 are read again.
            await host.DisposeAsync();
            host = await ApiTestHost.StartAsync(dir);
            await host.WaitForStateAsync("back", "running");
            var (again, afterRestart, _) = await host.GetAsync("pipelines/back/checkpoints");
            Assert.Equal(HttpStatusCode.OK, again);
            Assert.Equal(history[0].GetProperty("id").GetInt64(), afterRestart[0].GetProperty("id").GetInt64());
            var id = afterFirst.GetProperty("id").GetInt64();
            var (back, moved, _) = await host.PostAsync("pipelines/back/seek", $$"""{"checkpoint":{{id}}}""");
            Assert.True(back == HttpStatusCode.OK, moved.ToString());
            Assert.Equal(afterFirst.GetProperty("position").GetProperty("text").GetString(), moved.GetProperty("position").GetProperty("text").GetString());
            var output = await host.WaitForOutputAsync("back", 5);
            Assert.Contains("\"id\":2", output[3]);
            Assert.Contains("\"id\":3", output[4]);
            (_, history, _) = await host.GetAsync("pipelines/back/checkpoints");
            var restore = history.EnumerateArray().First(h => h.GetProperty("reason").GetString() == "seek");
            Assert.StartsWith($"seek to checkpoint {id} (", restore.GetProperty("note").GetString());
            Assert.Contains(history.EnumerateArray(), h => h.GetProperty("reason").GetString() == "before seek" &&
                                                           h.GetProperty("note").GetString()!.StartsWith($"seek to checkpoint {id}", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("pipelines/ghost/checkpoints")).Status);

            // Deleting the checkpoint keeps it in the history.
            Assert.Equal(HttpStatusCode.NoContent, (await host.SendAsync(HttpMethod.Delete, "pipelines/back?forget=true")).Status);
            Assert.False(File.Exists(CheckpointPath(host, "back")));
            Assert.Contains("\"before delete\"", await File.ReadAllTextAsync(Path.Combine(dir, "state", "back.checkpoint-history.json")));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Positions_read_the_same_in_the_api_the_log_and_the_dashboard_feed_after_a_gtid_seek_and_latest()
    {
        var database = NewDatabase(db);
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "shown", database));
        await host.WaitForStateAsync("shown", "running");
        var gtid = db.Sql("SELECT @@gtid_binlog_pos;").Trim();
        db.Sql("INSERT INTO t VALUES (1,'a');", database);
        await host.WaitForCheckpointAsync("shown", 1);
        await host.PostAsync("pipelines/shown/pause");

        // A GTID seek: only the GTID is known, and every place says so the same way.
        var (status, body, _) = await host.PostAsync("pipelines/shown/seek", $$"""{"gtid":"{{gtid}}"}""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var position = body.GetProperty("position");
        Assert.Equal(JsonValueKind.Null, position.GetProperty("file").ValueKind);
        Assert.Equal(JsonValueKind.Null, position.GetProperty("pos").ValueKind);
        Assert.Equal(gtid, position.GetProperty("gtid").GetString());
        Assert.Equal($"GTID {gtid}", position.GetProperty("text").GetString());
        var line = await host.WaitForLogAsync(l => l.Contains("moved over the API to", StringComparison.Ordinal), "the seek's log line");
        Assert.Contains($"moved over the API to GTID {gtid} (was ", line);
        Assert.DoesNotContain(":0 (GTID", line);
        Assert.Contains($"\"text\":\"GTID {gtid}\"", await host.StreamEventAsync());

        // latest: file, pos and the GTID there, all from the server.
        (status, body, _) = await host.PostAsync("pipelines/shown/seek", "\"latest\"");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var master = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var serverGtid = db.Sql("SELECT @@gtid_binlog_pos;").Trim();
        position = body.GetProperty("position");
        Assert.Equal(master[0], position.GetProperty("file").GetString());
        Assert.Equal(long.Parse(master[1]), position.GetProperty("pos").GetInt64());
        Assert.Equal(serverGtid, position.GetProperty("gtid").GetString());
        Assert.Equal(serverGtid, body.GetProperty("gtid").GetString());
        var text = $"{master[0]}:{master[1].Trim()} (GTID {serverGtid})";
        Assert.Equal(text, position.GetProperty("text").GetString());
        await host.WaitForLogAsync(l => l.Contains($"moved over the API to {text} (was GTID {gtid})", StringComparison.Ordinal), "the latest seek's log line");
        Assert.Contains($"\"text\":\"{text}\"", await host.StreamEventAsync());
    }
}
