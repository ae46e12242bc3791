using System.Net;
using System.Text.Json;
using PluginHost.Tests.Api;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// On-demand snapshots through the real API host on the real MariaDB (docs/snapshots.md, docs/rest-api.md):
/// <c>POST</c>/<c>DELETE /pipelines/{name}/snapshot</c>, the progress in <c>GET /pipelines/{name}</c> and
/// <c>/metrics</c>, the rows in the file sink, and every refusal (named field, nothing changed).
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotApiTests(MariaDbServer db, ITestOutputHelper output)
{
    /// <summary>Rows per chunk in these tests: small, so that a table of <see cref="BigRows"/> takes many chunks (seconds).</summary>
    private const string Chunks = "    snapshot: { chunk_size: 20 }";

    private const int BigRows = 40_000;

    /// <summary>A database with <c>big</c> (<see cref="BigRows"/> rows), <c>small</c> (ids 1-30) and <c>live</c> (empty).</summary>
    private string NewDatabase()
    {
        var name = "snapapi_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {name}; USE {name};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE live (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{BigRows};
            INSERT INTO small SELECT seq, CONCAT('s', seq) FROM seq_1_to_30;
            ANALYZE TABLE big, small;
            """);
        return name;
    }

    private static string Snapshot(params string[] tables) => JsonSerializer.Serialize(new { tables });

    private static IEnumerable<JsonElement> Reads(ApiTestHost host, string pipeline) =>
        host.Output(pipeline).Select(l => JsonDocument.Parse(l).RootElement.Clone()).Where(e => e.GetProperty("op").GetString() == "read");

    private static JsonElement TableOf(JsonElement pipeline, string table) =>
        pipeline.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == table);

    private static async Task Refused(ApiTestHost host, HttpMethod method, string path, string? body, HttpStatusCode expected, string? field = null, string? token = "default")
    {
        var (status, problem, response) = await host.SendAsync(method, path, body, token: token);
        Assert.True(status == expected, $"{method} {path} {body}: {status} {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field != null)
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages) && messages.GetArrayLength() > 0 && messages[0].GetString()!.Length > 0,
                $"no error naming {field}: {problem}");
    }

    [Fact]
    public async Task A_snapshot_shows_its_progress_then_its_rows_arrive_as_reads_while_the_stream_goes_on()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "demand", database, extra: Chunks));
        await host.WaitForStateAsync("demand", "running");
        Assert.Equal(JsonValueKind.Null, (await host.PipelineAsync("demand")).GetProperty("snapshot").ValueKind);

        var (status, accepted, response) = await host.PostAsync("pipelines/demand/snapshot", Snapshot($"{database}.big"));
        Assert.True(status == HttpStatusCode.Accepted, $"{status}: {accepted}");
        Assert.Equal("/pipelines/demand", response.Headers.Location?.OriginalString);
        Assert.Equal("snapshotting", accepted.GetProperty("state").GetString());
        var asked = accepted.GetProperty("snapshot");
        Assert.True(asked.GetProperty("active").GetBoolean());
        Assert.Equal("on_demand", asked.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrEmpty(asked.GetProperty("id").GetString()));
        Assert.Equal([$"{database}.big"], asked.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));

        // While it runs: state snapshotting, per-table progress, the metrics with it; the stream goes on meanwhile.
        var running = await host.WaitForAsync("demand", p => p.GetProperty("state").GetString() == "snapshotting" &&
                                                              TableOf(p, $"{database}.big") is var t && t.GetProperty("chunks").GetInt64() >= 3 &&
                                                              !t.GetProperty("done").GetBoolean() && t.GetProperty("eta_seconds").ValueKind == JsonValueKind.Number,
            "progress part-way through big", seconds: 60);
        var big = TableOf(running, $"{database}.big");
        output.WriteLine(big.ToString());
        Assert.InRange(big.GetProperty("rows").GetInt64(), 1, BigRows - 1);
        Assert.InRange(big.GetProperty("estimated_rows").GetInt64(), BigRows / 2, BigRows * 2); // InnoDB's estimate
        Assert.InRange(big.GetProperty("percent").GetDouble(), 0.0, 99.9);
        Assert.True(big.GetProperty("rows_per_second").GetDouble() > 0, big.ToString());
        Assert.True(big.GetProperty("eta_seconds").GetDouble() >= 0, big.ToString());
        Assert.False(big.GetProperty("keyless").GetBoolean());
        Assert.Equal(JsonValueKind.Null, big.GetProperty("where").ValueKind);
        Assert.True(running.GetProperty("snapshot").GetProperty("active").GetBoolean());
        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains("pluginhost_snapshot_active{pipeline=\"demand\"} 1", metrics);
        db.Sql("INSERT INTO live VALUES (1, 'during');", database);

        var ended = await host.WaitForAsync("demand", p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean(), "the snapshot to end", seconds: 180);
        Assert.Equal("running", ended.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("snapshot").GetProperty("ended_because").ValueKind);
        big = TableOf(ended, $"{database}.big");
        Assert.True(big.GetProperty("done").GetBoolean());
        Assert.Equal(BigRows, big.GetProperty("rows").GetInt64());
        Assert.Equal(100, big.GetProperty("percent").GetDouble());
        Assert.Equal(BigRows / 20 + 1, big.GetProperty("chunks").GetInt64()); // full chunks, then the one that finds the end
        db.Sql("INSERT INTO live VALUES (2, 'after');", database);
        var lines = await host.WaitForOutputAsync("demand", BigRows + 2, seconds: 60);

        var reads = Reads(host, "demand").ToList();
        Assert.Equal(BigRows, reads.Count);
        Assert.All(reads, e =>
        {
            Assert.Equal("big", e.GetProperty("table").GetString());
            Assert.Equal(JsonValueKind.Null, e.GetProperty("before").ValueKind);
        });
        Assert.Equal(Enumerable.Range(1, BigRows), reads.Select(e => e.GetProperty("after").GetProperty("id").GetInt32()).Order());
        Assert.Equal("b7", reads.Single(e => e.GetProperty("after").GetProperty("id").GetInt32() == 7).GetProperty("after").GetProperty("v").GetString());
        var live = lines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("table").GetString() == "live").ToList();
        Assert.Equal(["insert", "insert"], live.Select(e => e.GetProperty("op").GetString()));

        // /metrics: per pipeline and table, valid exposition (promtool).
        metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains($"pluginhost_snapshot_rows_total{{pipeline=\"demand\",table=\"{database}.big\"}} {BigRows}", metrics);
        Assert.Contains($"pluginhost_snapshot_chunks_total{{pipeline=\"demand\",table=\"{database}.big\"}} {BigRows / 20 + 1}", metrics);
        var estimate = System.Text.RegularExpressions.Regex.Escape($"pluginhost_snapshot_rows_estimated{{pipeline=\"demand\",table=\"{database}.big\"}} ");
        Assert.Matches(estimate + "[1-9][0-9]{4}\n", metrics); // InnoDB's estimate (raised to the count where it was lower)
        Assert.Contains("pluginhost_snapshot_active{pipeline=\"demand\"} 0", metrics);
        Assert.Contains($"pluginhost_events_total{{op=\"read\",pipeline=\"demand\",table=\"{database}.big\"}} {BigRows}", metrics);
        var (code, promtool) = await Promtool.CheckMetricsAsync(metrics);
        Assert.True(code == 0, $"promtool check metrics: exit {code}\n{promtool}");
    }

    [Fact]
    public async Task A_where_reads_only_matching_rows_and_a_pattern_reads_every_table_it_matches()
    {
        var database = NewDatabase();
        db.Sql("DROP TABLE big;", database);
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "some", database, extra: Chunks));
        await host.WaitForStateAsync("some", "running");

        var (status, body, _) = await host.PostAsync("pipelines/some/snapshot", $$"""{"tables": ["{{database}}.*"], "where": "id % 3 = 0 AND v <> 's9'"}""");
        Assert.True(status == HttpStatusCode.Accepted, $"{status}: {body}");
        var ended = await host.WaitForAsync("some", p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean(), "the snapshot to end", seconds: 60);
        // The pattern matched both tables (live is empty), in name order; each shows the condition.
        Assert.Equal([$"{database}.live", $"{database}.small"],
            ended.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));
        Assert.All(ended.GetProperty("snapshot").GetProperty("tables").EnumerateArray(), t =>
        {
            Assert.True(t.GetProperty("done").GetBoolean());
            Assert.Equal("id % 3 = 0 AND v <> 's9'", t.GetProperty("where").GetString());
        });
        Assert.Equal(9, TableOf(ended, $"{database}.small").GetProperty("rows").GetInt64());
        await host.WaitForOutputAsync("some", 9);
        var reads = Reads(host, "some").ToList();
        Assert.Equal([3, 6, 12, 15, 18, 21, 24, 27, 30], reads.Select(e => e.GetProperty("after").GetProperty("id").GetInt32()));
        Assert.All(reads, e => Assert.Equal("small", e.GetProperty("table").GetString()));
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_field_and_change_nothing()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(
            ApiTestHost.PipelineYaml(db, "guard", database, extra: Chunks) + ApiTestHost.PipelineYaml(db, "resting", database, extra: Chunks));
        await host.WaitForStateAsync("guard", "running");
        await host.WaitForStateAsync("resting", "running");
        const string path = "pipelines/guard/snapshot";

        // Tables: one that does not exist (alone or after one that does), a pattern matching none, not database.table.
        await Refused(host, HttpMethod.Post, path, Snapshot($"{database}.nosuch"), HttpStatusCode.BadRequest, "tables[0]");
        await Refused(host, HttpMethod.Post, path, Snapshot($"{database}.small", $"{database}.nosuch"), HttpStatusCode.BadRequest, "tables[1]");
        await Refused(host, HttpMethod.Post, path, Snapshot($"{database}.zz*"), HttpStatusCode.BadRequest, "tables[0]");
        await Refused(host, HttpMethod.Post, path, Snapshot("nodot"), HttpStatusCode.BadRequest, "tables[0]");
        // A condition the server refuses, one holding ; or a comment, one that is not a string.
        await Refused(host, HttpMethod.Post, path, $$"""{"tables": ["{{database}}.small"], "where": "nosuchcolumn > 1"}""", HttpStatusCode.BadRequest, "where");
        await Refused(host, HttpMethod.Post, path, $$"""{"tables": ["{{database}}.small"], "where": "id > 1; DROP TABLE small"}""", HttpStatusCode.BadRequest, "where");
        await Refused(host, HttpMethod.Post, path, $$"""{"tables": ["{{database}}.small"], "where": "id > 1 -- all"}""", HttpStatusCode.BadRequest, "where");
        await Refused(host, HttpMethod.Post, path, $$"""{"tables": ["{{database}}.small"], "where": 5}""", HttpStatusCode.BadRequest, "where");
        // The body: an unknown key, tables empty or missing or not strings, not JSON, not an object.
        await Refused(host, HttpMethod.Post, path, $$"""{"tables": ["{{database}}.small"], "limit": 5}""", HttpStatusCode.BadRequest, "limit");
        await Refused(host, HttpMethod.Post, path, """{"tables": []}""", HttpStatusCode.BadRequest, "tables");
        await Refused(host, HttpMethod.Post, path, """{"where": "id > 1"}""", HttpStatusCode.BadRequest, "tables");
        await Refused(host, HttpMethod.Post, path, """{"tables": [1]}""", HttpStatusCode.BadRequest, "tables[0]");
        await Refused(host, HttpMethod.Post, path, """{"tables": ["x.y"]""", HttpStatusCode.BadRequest, "(body)");
        await Refused(host, HttpMethod.Post, path, "not json", HttpStatusCode.BadRequest, "(body)");
        await Refused(host, HttpMethod.Post, path, "[\"x.y\"]", HttpStatusCode.BadRequest, "(body)");
        // Without the token (a token is configured): 401 before anything is read; an unknown pipeline: 404.
        await Refused(host, HttpMethod.Post, path, Snapshot($"{database}.small"), HttpStatusCode.Unauthorized, token: null);
        await Refused(host, HttpMethod.Post, path, Snapshot($"{database}.small"), HttpStatusCode.Unauthorized, token: "wrong-token");
        await Refused(host, HttpMethod.Delete, path, null, HttpStatusCode.Unauthorized, token: null);
        await Refused(host, HttpMethod.Post, "pipelines/ghost/snapshot", Snapshot($"{database}.small"), HttpStatusCode.NotFound);
        await Refused(host, HttpMethod.Delete, "pipelines/ghost/snapshot", null, HttpStatusCode.NotFound);
        // None running: nothing to cancel.
        await Refused(host, HttpMethod.Delete, path, null, HttpStatusCode.Conflict);
        // A paused pipeline: 409 (resume it first).
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("pipelines/resting/pause")).Status);
        await Refused(host, HttpMethod.Post, "pipelines/resting/snapshot", Snapshot($"{database}.small"), HttpStatusCode.Conflict);
        await Refused(host, HttpMethod.Delete, "pipelines/resting/snapshot", null, HttpStatusCode.Conflict);

        // Nothing changed: no snapshot in either pipeline, no rows read, both as they were; the stream goes on.
        var guard = await host.PipelineAsync("guard");
        Assert.Equal("running", guard.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, guard.GetProperty("snapshot").ValueKind);
        var resting = await host.PipelineAsync("resting");
        Assert.Equal("paused", resting.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, resting.GetProperty("snapshot").ValueKind);
        Assert.Equal("30", db.Sql("SELECT COUNT(*) FROM small;", database).Trim());
        db.Sql("INSERT INTO live VALUES (1, 'x');", database);
        var line = Assert.Single(await host.WaitForOutputAsync("guard", 1));
        Assert.Equal("insert", JsonDocument.Parse(line).RootElement.GetProperty("op").GetString());
        Assert.Empty(Reads(host, "guard"));
        Assert.Empty(Reads(host, "resting"));
    }

    [Fact]
    public async Task Delete_cancels_the_snapshot_in_progress_and_the_stream_goes_on()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "cancel", database, extra: Chunks));
        await host.WaitForStateAsync("cancel", "running");
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("pipelines/cancel/snapshot", Snapshot($"{database}.big"))).Status);
        var first = await host.WaitForAsync("cancel", p => TableOf(p, $"{database}.big").GetProperty("chunks").GetInt64() >= 2, "the first chunks", seconds: 60);
        // Tables asked for while it runs are added to it (same snapshot).
        var (added, extended, _) = await host.PostAsync("pipelines/cancel/snapshot", Snapshot($"{database}.small"));
        Assert.Equal(HttpStatusCode.Accepted, added);
        Assert.Equal(first.GetProperty("snapshot").GetProperty("id").GetString(), extended.GetProperty("snapshot").GetProperty("id").GetString());
        Assert.Equal([$"{database}.big", $"{database}.small"],
            extended.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));

        var (status, cancelled, _) = await host.SendAsync(HttpMethod.Delete, "pipelines/cancel/snapshot");
        Assert.True(status == HttpStatusCode.OK, $"{status}: {cancelled}");
        var snapshot = cancelled.GetProperty("snapshot");
        Assert.False(snapshot.GetProperty("active").GetBoolean());
        Assert.Contains("cancel", snapshot.GetProperty("ended_because").GetString());
        Assert.Equal("running", cancelled.GetProperty("state").GetString());
        var rowsAtCancel = TableOf(cancelled, $"{database}.big").GetProperty("rows").GetInt64();
        Assert.InRange(rowsAtCancel, 20, BigRows - 1);
        await Refused(host, HttpMethod.Delete, "pipelines/cancel/snapshot", null, HttpStatusCode.Conflict); // nothing runs now

        // No more rows are read; the stream goes on.
        db.Sql("INSERT INTO live VALUES (1, 'after');", database);
        await host.WaitForAsync("cancel", _ => host.Output("cancel").Any(l => l.Contains("\"after\"", StringComparison.Ordinal)), "the row written after the cancel");
        await Task.Delay(1000);
        var shown = await host.PipelineAsync("cancel");
        Assert.Equal("running", shown.GetProperty("state").GetString());
        Assert.Equal(rowsAtCancel, TableOf(shown, $"{database}.big").GetProperty("rows").GetInt64());
        var reads = Reads(host, "cancel").Count();
        Assert.InRange(reads, 1, rowsAtCancel);
        Assert.False(shown.GetProperty("snapshot").GetProperty("active").GetBoolean());
        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains("pluginhost_snapshot_active{pipeline=\"cancel\"} 0", metrics);

        // A new snapshot can be asked afterwards; it starts over.
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("pipelines/cancel/snapshot", Snapshot($"{database}.small"))).Status);
        var again = await host.WaitForAsync("cancel", p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean(), "the second snapshot to end", seconds: 60);
        Assert.Equal([$"{database}.small"], again.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));
        Assert.Equal(JsonValueKind.Null, again.GetProperty("snapshot").GetProperty("ended_because").ValueKind);
    }

    [Fact]
    public async Task Only_tables_the_pipeline_takes_are_read_and_a_filter_without_read_refuses()
    {
        var database = NewDatabase();
        var yaml = ApiTestHost.PipelineYaml(db, "narrow", database, extra: Chunks).Replace($"include: [\"{database}.*\"]", $"include: [\"{database}.small\", \"{database}.live\"]") +
                   ApiTestHost.PipelineYaml(db, "noreads", database, extra: Chunks).Replace($"include: [\"{database}.*\"] }}", $"include: [\"{database}.*\"], events: [insert, update, delete] }}");
        await using var host = await ApiTestHost.StartNewAsync(yaml);
        await host.WaitForStateAsync("narrow", "running");
        await host.WaitForStateAsync("noreads", "running");

        // A table outside the pipeline's filter: its rows would arrive with none of its changes after them.
        await Refused(host, HttpMethod.Post, "pipelines/narrow/snapshot", Snapshot($"{database}.small", $"{database}.big"), HttpStatusCode.BadRequest, "tables[1]");
        Assert.Equal(JsonValueKind.Null, (await host.PipelineAsync("narrow")).GetProperty("snapshot").ValueKind);
        // A pattern reads the tables it matches that the pipeline takes.
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("pipelines/narrow/snapshot", Snapshot($"{database}.*"))).Status);
        var ended = await host.WaitForAsync("narrow", p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean(), "the snapshot to end", seconds: 60);
        Assert.Equal([$"{database}.live", $"{database}.small"],
            ended.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));
        await host.WaitForOutputAsync("narrow", 30);
        Assert.All(Reads(host, "narrow"), e => Assert.Equal("small", e.GetProperty("table").GetString()));

        // filter.events without read: a snapshot's rows would all be dropped; refused, nothing read.
        await Refused(host, HttpMethod.Post, "pipelines/noreads/snapshot", Snapshot($"{database}.small"), HttpStatusCode.Conflict);
        Assert.Equal(JsonValueKind.Null, (await host.PipelineAsync("noreads")).GetProperty("snapshot").ValueKind);
        db.Sql("INSERT INTO live VALUES (1, 'x');", database);
        await host.WaitForOutputAsync("noreads", 1);
        await Task.Delay(500);
        Assert.Empty(Reads(host, "noreads"));
    }

    [Fact]
    public async Task An_initial_snapshot_reads_the_tables_of_snapshot_tables_that_the_filter_also_takes()
    {
        var database = NewDatabase();
        var yaml = ApiTestHost.PipelineYaml(db, "first", database, extra: $"    snapshot: {{ mode: initial_only, chunk_size: 7, tables: [\"{database}.*\"] }}")
            .Replace($"include: [\"{database}.*\"]", $"include: [\"{database}.small\", \"{database}.live\"]");
        await using var host = await ApiTestHost.StartNewAsync(yaml);
        var done = await host.WaitForStateAsync("first", "completed", seconds: 60);
        Assert.Equal("initial", done.GetProperty("snapshot").GetProperty("kind").GetString());
        Assert.Equal([$"{database}.live", $"{database}.small"],
            done.GetProperty("snapshot").GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));
        Assert.Equal(5, TableOf(done, $"{database}.small").GetProperty("chunks").GetInt64()); // 4 of 7 rows, the last of 2
        var reads = Reads(host, "first").ToList();
        Assert.Equal(30, reads.Count);
        Assert.All(reads, e => Assert.Equal("small", e.GetProperty("table").GetString()));
    }

    [Fact]
    public async Task A_cancelled_snapshot_stays_cancelled_after_a_restart_of_an_idle_pipeline()
    {
        var database = NewDatabase();
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "idle", database, extra: Chunks));
        await host.WaitForStateAsync("idle", "running");
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("pipelines/idle/snapshot", Snapshot($"{database}.big"))).Status);
        await host.WaitForCheckpointAsync("idle", 100, seconds: 60); // chunks delivered: the checkpoint carries the snapshot's progress
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Delete, "pipelines/idle/snapshot")).Status);
        var readBefore = Reads(host, "idle").Count();

        // No change arrives on the stream; the pipeline restarts. The cancelled snapshot must not come back.
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("pipelines/idle/restart")).Status);
        await host.WaitForStateAsync("idle", "running");
        await Task.Delay(2000);
        var p = await host.PipelineAsync("idle");
        Assert.Equal("running", p.GetProperty("state").GetString());
        Assert.False(p.GetProperty("snapshot") is { ValueKind: JsonValueKind.Object } s && s.GetProperty("active").GetBoolean(), p.GetProperty("snapshot").ToString());
        Assert.InRange(Reads(host, "idle").Count(), readBefore, readBefore + 20); // at most the chunk in flight at the cancel
        using var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(host.Dir, "state", "idle.checkpoint.json")));
        Assert.Equal(JsonValueKind.Null, checkpoint.RootElement.GetProperty("snapshot").ValueKind);
    }
}
