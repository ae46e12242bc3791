using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Plugins.Kafka;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using PluginHost.Tests.Webhook;
using Xunit.Abstractions;
using static PluginHost.Tests.Kafka.KafkaTestSupport;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// A snapshot row (op <c>read</c>) in every format that carries it (docs/snapshots.md, "What consumers get"): the event
/// JSON round trip, Debezium's <c>op: "r"</c> and <c>source.snapshot</c> (encoder and sink on the Kafka mock cluster),
/// pikachu's webhook payload (an <c>insert</c>), and webhook tasks' <c>events</c> (a real HTTP receiver).
/// </summary>
[Trait("Category", "Integration")]
public sealed class SnapshotFormatTests(ITestOutputHelper output)
{
    /// <summary>A row a snapshot read: <c>after</c> holds it, <c>before</c> is null; the chunk names the transaction.</summary>
    private static ChangeEvent Read(long id, string name, long n = 5)
    {
        var e = Event(ChangeOperation.Insert, id, name, n, gtid: null, pos: 4242);
        e.Op = ChangeOperation.Read;
        e.TransactionId = "snapshot:shop.users:3";
        e.IndexInTransaction = 1;
        return e;
    }

    [Fact]
    public void The_event_JSON_of_a_read_round_trips()
    {
        var e = Read(7, "Ann");
        var json = ChangeEventJson.Serialize(e);
        var node = JsonNode.Parse(json)!.AsObject();
        Assert.Equal("read", node["op"]!.GetValue<string>());
        Assert.Null(node["before"]);
        Assert.True(node.ContainsKey("before"));
        Assert.Equal("""{"id":7,"name":"Ann","n":5}""", node["after"]!.ToJsonString());
        var back = ChangeEventJson.Parse(json);
        Assert.Equal(ChangeOperation.Read, back.Op);
        Assert.Null(back.Before);
        Assert.Equal(7L, back.After!["id"]);
        Assert.Equal(json, ChangeEventJson.Serialize(back));
        Assert.Equal("read", ChangeEventJson.OpName(ChangeOperation.Read));
    }

    [Fact]
    public void Debezium_writes_a_read_as_op_r_with_source_snapshot_true()
    {
        var encoder = new EventEncoder(KafkaFormat.Debezium, "snap", EventEncoder.KnownHeaders);
        var read = JsonNode.Parse(encoder.Value(Read(7, "Ann")))!.AsObject();
        Assert.Equal("r", read["op"]!.GetValue<string>());
        Assert.Equal("true", read["source"]!["snapshot"]!.GetValue<string>());
        Assert.Null(read["before"]);
        Assert.Equal("""{"id":7,"name":"Ann","n":5}""", read["after"]!.ToJsonString());
        Assert.Equal("snapshot:shop.users:3", read["transaction"]!["id"]!.GetValue<string>());
        Assert.Equal("""{"id":7}""", System.Text.Encoding.UTF8.GetString(encoder.Key(Read(7, "Ann"))!));
        Assert.Equal("read", encoder.HeaderValues(Read(7, "Ann"), ChangeOperation.Read)["op"]);
        // A change from the stream is not a snapshot row.
        var insert = JsonNode.Parse(encoder.Value(Event(ChangeOperation.Insert, 8, "Bob", 1)))!.AsObject();
        Assert.Equal("c", insert["op"]!.GetValue<string>());
        Assert.Equal("false", insert["source"]!["snapshot"]!.GetValue<string>());
        // The event JSON format keeps op read.
        var json = new EventEncoder(KafkaFormat.Json, "snap", []);
        Assert.Equal(ChangeEventJson.Serialize(Read(7, "Ann")), System.Text.Encoding.UTF8.GetString(json.Value(Read(7, "Ann"))));
    }

    [Fact]
    public async Task The_Debezium_sink_sends_one_record_per_read_with_no_tombstone()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        await using var sink = new KafkaSinkFactory().Create(SinkContext(
            $$"""{"type":"kafka","bootstrap_servers":"{{cluster.BootstrapServers}}","create_topics":false,"format":"debezium","tombstones":true}""", "snap"));
        await sink.WriteAsync([Read(1, "Ann"), Read(2, "Bob"), Event(ChangeOperation.Update, 2, "Bobby", 6)], CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
        var records = cluster.ReadAll("shop.users").OrderBy(r => r.Offset).ToList();
        Assert.Equal([("""{"id":1}""", "r", "true"), ("""{"id":2}""", "r", "true"), ("""{"id":2}""", "u", "false")],
            records.Select(r => (r.Key, JsonNode.Parse(r.Value!)!["op"]!.GetValue<string>(), JsonNode.Parse(r.Value!)!["source"]!["snapshot"]!.GetValue<string>())).ToList());
        Assert.Equal(["read", "read", "update"], records.Select(r => r.Headers["op"]));
    }

    [Fact]
    public void Pikachus_webhook_payload_sends_a_read_as_an_insert()
    {
        var read = JsonNode.Parse(WebhookPayload.Serialize(Read(7, "Ann"), WebhookFormat.Pikachu))!.AsObject();
        var insert = Event(ChangeOperation.Insert, 7, "Ann", 5, gtid: null, pos: 4242);
        Assert.Equal(WebhookPayload.Serialize(insert, WebhookFormat.Pikachu), read.ToJsonString());
        Assert.Equal(["event", "table", "primary_id", "data", "timestamp"], read.Select(p => p.Key));
        Assert.Equal("insert", read["event"]!.GetValue<string>());
        Assert.Equal(7, read["primary_id"]!.GetValue<long>());
        Assert.Equal("""{"id":7,"name":"Ann","n":5}""", read["data"]!.ToJsonString());
        // The JSON format says read.
        Assert.Equal(ChangeEventJson.Serialize(Read(7, "Ann")), WebhookPayload.Serialize(Read(7, "Ann"), WebhookFormat.Json));
    }

    [Fact]
    public void Webhook_tasks_take_reads_when_their_events_list_read_or_are_left_out()
    {
        var settings = WebhookSettings.From(JsonDocument.Parse("""
            {"type":"webhook","tasks":[
              {"id":"reads","table":"users","events":["read"],"url":"http://h/reads"},
              {"id":"inserts","table":"users","events":["insert"],"url":"http://h/inserts"},
              {"id":"all","table":"shop.*","url":"http://h/all"}]}
            """).RootElement, "/base");
        var router = new WebhookRouter(settings.Routes);
        Assert.Equal(["reads", "all"], router.Find(Read(1, "Ann")).Select(r => r.Id));
        Assert.Equal(["inserts", "all"], router.Find(Event(ChangeOperation.Insert, 1, "Ann", 0)).Select(r => r.Id));
        Assert.Equal(["all"], router.Find(Event(ChangeOperation.Delete, 1, "Ann", 0)).Select(r => r.Id));
        Assert.Equal(["insert", "update", "delete", "read"], new WebhookTaskOptions().Events);

        var bad = Assert.Throws<SinkConfigurationException>(() => WebhookSettings.From(JsonDocument.Parse(
            """{"type":"webhook","tasks":[{"table":"users","events":["insert","select"],"url":"http://h/x"}]}""").RootElement, "/base"));
        Assert.Contains("tasks[0].events[1]", bad.Message);
        Assert.Contains("read", bad.Message);
    }

    [Fact]
    public async Task A_receiver_gets_reads_only_from_the_task_that_takes_them()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new JsonObject
        {
            ["format"] = "pikachu",
            ["tasks"] = new JsonArray(
                new JsonObject { ["id"] = "reads", ["table"] = "users", ["events"] = new JsonArray("read"), ["url"] = receiver.BaseUrl + "/reads" },
                new JsonObject { ["id"] = "inserts", ["table"] = "users", ["events"] = new JsonArray("insert"), ["url"] = receiver.BaseUrl + "/inserts" }),
        };
        await using var sink = WebhookEvents.Sink(settings, new RecordingLogger(output));
        await sink.WriteAsync([Read(1, "Ann"), Read(2, "Bob"), Event(ChangeOperation.Insert, 3, "Cy", 0)], CancellationToken.None);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30))) await sink.FlushAsync(cts.Token);

        var got = receiver.Events().Select(x => (x.Request.Path, Id: x.Event["primary_id"]!.GetValue<long>(), Kind: x.Event["event"]!.GetValue<string>()))
            .OrderBy(x => x.Id).ToList();
        Assert.Equal([("/reads", 1L, "insert"), ("/reads", 2L, "insert"), ("/inserts", 3L, "insert")], got);
    }
}
