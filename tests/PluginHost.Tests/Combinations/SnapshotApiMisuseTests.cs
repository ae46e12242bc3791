using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Combinations;

/// <summary>
/// The REST API used carelessly while an on-demand snapshot runs (issue 16's API with issue 14's rules): the snapshot
/// cancelled twice, an invalid definition PUT, a valid one PUT (restart), the pipeline DELETEd and PUT back. Each call
/// gets a clean answer or a 4xx naming the field; the stream's position is never lost: every change committed
/// throughout reaches the sink, and the last snapshot still reads every row.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotApiMisuseTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 30_000;

    [Fact]
    public async Task Cancel_twice_put_and_delete_during_a_snapshot_answer_cleanly_and_lose_no_change()
    {
        var database = "combo_api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"""
            CREATE DATABASE {database}; USE {database};
            CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            CREATE TABLE live (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
            INSERT INTO big SELECT seq, CONCAT('b', seq) FROM seq_1_to_{Rows};
            """);
        const string name = "misuse";
        var serverId = ApiTestHost.NextServerId();
        string Definition(int batch) => $$"""
            name: {{name}}
            source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{serverId}}, ssl: none }
            filter: { include: ["{{database}}.*"] }
            snapshot: { chunk_size: 20 }
            batch_size: {{batch}}
            sink: { type: file, path: out-{{name}}.jsonl, fsync: false }
            """;
        var item = string.Join('\n', Definition(100).Split('\n').Select((l, i) => (i == 0 ? "  - " : "    ") + l));
        await using var host = await ApiTestHost.StartNewAsync(item);
        await host.WaitForStateAsync(name, "running", seconds: 60);
        var snapshot = JsonSerializer.Serialize(new { tables = new[] { $"{database}.big" } });
        var liveId = 0;
        void Change() => db.Sql($"INSERT INTO live VALUES ({++liveId}, 'x');", database);
        async Task<JsonElement> Running(string what) => await host.WaitForAsync(name, p =>
            p.GetProperty("snapshot") is { ValueKind: JsonValueKind.Object } s && s.GetProperty("active").GetBoolean() &&
            s.GetProperty("tables")[0].GetProperty("chunks").GetInt64() >= 3, what, seconds: 60);
        async Task Expect(HttpMethod method, string path, string? body, HttpStatusCode expected, string? field = null, string contentType = "application/json")
        {
            var (status, problem, _) = await host.SendAsync(method, path, body, contentType);
            output.WriteLine($"{method} {path}: {(int)status}");
            Assert.True(status == expected, $"{method} {path}: {status} {problem}\n{host.Logs.Text}");
            if (field != null)
                Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var m) && m.GetArrayLength() > 0, $"no error naming {field}: {problem}");
        }

        // Cancel twice: the first ends it, the second is a 409 and changes nothing.
        Change();
        await Expect(HttpMethod.Post, $"pipelines/{name}/snapshot", snapshot, HttpStatusCode.Accepted);
        await Running("the first snapshot part-way");
        Change();
        await Expect(HttpMethod.Delete, $"pipelines/{name}/snapshot", null, HttpStatusCode.OK);
        await Expect(HttpMethod.Delete, $"pipelines/{name}/snapshot", null, HttpStatusCode.Conflict);
        var cancelled = await host.PipelineAsync(name);
        Assert.False(cancelled.GetProperty("snapshot").GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.String, cancelled.GetProperty("snapshot").GetProperty("ended_because").ValueKind);
        Change();

        // A new snapshot; an invalid definition PUT meanwhile is a 400 naming the key and leaves it running.
        await Expect(HttpMethod.Post, $"pipelines/{name}/snapshot", snapshot, HttpStatusCode.Accepted);
        await Running("the second snapshot part-way");
        Change();
        await Expect(HttpMethod.Put, $"pipelines/{name}", Definition(0), HttpStatusCode.BadRequest, "batch_size", "application/yaml");
        await Expect(HttpMethod.Put, $"pipelines/{name}", Definition(100).Replace("chunk_size: 20", "chunk_size: -5"), HttpStatusCode.BadRequest, "snapshot.chunk_size", "application/yaml");
        var still = await host.PipelineAsync(name);
        Assert.True(still.GetProperty("snapshot").GetProperty("active").GetBoolean(), still.ToString());
        Change();

        // A valid PUT restarts the pipeline with the new definition; its snapshot carries on from its checkpoint.
        await Expect(HttpMethod.Put, $"pipelines/{name}", Definition(50), HttpStatusCode.OK, contentType: "application/yaml");
        Change();
        await host.WaitForAsync(name, p => p.GetProperty("config").GetProperty("batch_size").GetInt32() == 50 &&
                                           p.GetProperty("state").GetString() is "running" or "snapshotting", "the replaced pipeline running", seconds: 60);
        Change();

        // DELETE while it (maybe still) snapshots, changes while it is gone, then PUT it back: it resumes at its checkpoint.
        await Expect(HttpMethod.Delete, $"pipelines/{name}", null, HttpStatusCode.NoContent);
        await Expect(HttpMethod.Delete, $"pipelines/{name}/snapshot", null, HttpStatusCode.NotFound);
        await Expect(HttpMethod.Post, $"pipelines/{name}/snapshot", snapshot, HttpStatusCode.NotFound);
        Change();
        Change();
        await Expect(HttpMethod.Put, $"pipelines/{name}", Definition(50), HttpStatusCode.Created, contentType: "application/yaml");
        await host.WaitForAsync(name, p => p.GetProperty("state").GetString() is "running" or "snapshotting", "the pipeline back", seconds: 60);
        Change();

        // A last snapshot to its end: every row read; every change committed throughout arrived, in order.
        await host.WaitForAsync(name, p => p.GetProperty("snapshot") is not { ValueKind: JsonValueKind.Object } s || !s.GetProperty("active").GetBoolean(),
            "no snapshot running", seconds: 180);
        var readsBefore = Events(host, name).Count(e => e.Op == "read");
        await Expect(HttpMethod.Post, $"pipelines/{name}/snapshot", snapshot, HttpStatusCode.Accepted);
        Change();
        var ended = await host.WaitForAsync(name, p => !p.GetProperty("snapshot").GetProperty("active").GetBoolean(), "the last snapshot to end", seconds: 240);
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("snapshot").GetProperty("ended_because").ValueKind);
        var end = Kit.MasterStatus(db);
        await host.WaitForAsync(name, p => p.GetProperty("position") is { ValueKind: JsonValueKind.Object } cp
                                           && cp.GetProperty("file").GetString() == end.File && cp.GetProperty("pos").GetInt64() >= end.Position,
            $"the checkpoint to reach {end}", seconds: 60);

        var events = Events(host, name);
        var live = events.Where(e => e.Table == "live").Select(e => e.Id).ToList();
        var lastReads = events.Where(e => e.Op == "read").Skip(readsBefore).Select(e => e.Id).ToList();
        output.WriteLine($"{events.Count} events: {live.Count} live ({live.Count - live.Distinct().Count()} repeated), {events.Count(e => e.Op == "read")} reads, {lastReads.Count} in the last snapshot");
        Assert.Equal(Enumerable.Range(1, liveId), live.Distinct().Order());
        Assert.True(live.Count - live.Distinct().Count() <= 5, $"{live.Count - live.Distinct().Count()} live rows repeated: {string.Join(",", live)}");
        Assert.Equal(Enumerable.Range(1, Rows), lastReads.Distinct().Order());
        Assert.Equal(Rows, lastReads.Count);
        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains("Unhandled", StringComparison.Ordinal));
    }

    private sealed record Row(string Op, string Table, int Id);

    private static List<Row> Events(ApiTestHost host, string name) => host.Output(name).Select(l =>
    {
        var e = JsonDocument.Parse(l).RootElement;
        var image = e.GetProperty("after").ValueKind == JsonValueKind.Object ? e.GetProperty("after") : e.GetProperty("before");
        return new Row(e.GetProperty("op").GetString()!, e.GetProperty("table").GetString()!, image.GetProperty("id").GetInt32());
    }).ToList();
}
