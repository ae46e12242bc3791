using System.Text.Json.Nodes;
using Confluent.Kafka;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Kafka.KafkaTestSupport;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// The Kafka sink on its own against librdkafka's in-process mock cluster (three brokers): keys, partitions, topics,
/// formats, headers, failures. Read back with Confluent.Kafka consumers and, once, Debian's kcat.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KafkaSinkTests
{
    private static ISink Sink(KafkaMockCluster cluster, string extra = "", string pipeline = "p1", RecordingLogger? logger = null) =>
        new KafkaSinkFactory().Create(SinkContext($$"""{"type":"kafka","bootstrap_servers":"{{cluster.BootstrapServers}}","create_topics":false{{extra}}}""", pipeline, logger));

    [Fact]
    public async Task Produces_keyed_event_json_with_headers_and_acknowledges_on_flush()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 3);
        var logger = new RecordingLogger();
        // create_topics on: the mock cluster has no CreateTopics, which the sink must say once and then rely on auto-creation.
        await using var sink = new KafkaSinkFactory().Create(SinkContext($$"""{"type":"kafka","bootstrap_servers":"{{cluster.BootstrapServers}}"}""", "p1", logger));
        await sink.WriteAsync([Event(ChangeOperation.Insert, 1, "Ann", 1), Event(ChangeOperation.Update, 1, "Ann", 2), Event(ChangeOperation.Delete, 1, "Ann", 2)], CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
        Assert.Equal(0, ((KafkaSink)sink).Outstanding);
        Assert.Equal(3, ((KafkaSink)sink).Acknowledged);

        var records = cluster.ReadAll("shop.users").OrderBy(r => r.Offset).ToList();
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("""{"id":1}""", r.Key));
        Assert.Single(records.Select(r => r.Partition).Distinct());
        Assert.Equal(["insert", "update", "delete"], records.Select(r => JsonNode.Parse(r.Value!)!["op"]!.GetValue<string>()));
        Assert.Equal(ChangeEventJson.Serialize(Event(ChangeOperation.Insert, 1, "Ann", 1)), records[0].Value);
        Assert.Equal("insert", records[0].Headers["op"]);
        Assert.Equal("p1", records[0].Headers["pipeline"]);
        Assert.Equal("0-1-1", records[0].Headers["gtid"]);
        Assert.Equal("mysql-bin.000001:100", records[0].Headers["position"]);
        Assert.Single(logger.Lines, l => l.Contains("refuses to create topics"));
    }

    [Fact]
    public async Task A_full_producer_queue_makes_the_write_wait_and_every_message_arrives_in_order_with_its_headers()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        // Room for 5 messages in the producer: most of the 300 wait for room, each keeping its own bytes.
        await using var sink = Sink(cluster, """, "producer": {"queue.buffering.max.messages": "5", "linger.ms": "0"}""");
        var events = Enumerable.Range(1, 300).Select(i => Event(ChangeOperation.Update, 7, "name-" + i, i, pos: 1000 + i)).ToList();
        await sink.WriteAsync(events, CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);
        Assert.Equal(300, ((KafkaSink)sink).Acknowledged);

        var records = cluster.ReadAll("shop.users").OrderBy(r => r.Offset).ToList();
        Assert.Equal(events.Select(ChangeEventJson.Serialize), records.Select(r => r.Value));
        Assert.All(records, r => Assert.Equal("""{"id":7}""", r.Key));
        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"mysql-bin.000001:{1000 + i}"), records.Select(r => r.Headers["position"]));
    }

    [Fact]
    public async Task Routes_by_template_and_by_the_transforms_destination_with_legal_topic_names()
    {
        using var cluster = new KafkaMockCluster();
        var orders = new TableInfo("shop", "orders", [new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true), new ColumnInfo("name", ColumnKind.Text), new ColumnInfo("n", ColumnKind.Integer)]);
        var odd = new TableInfo("shop", "odd name$", [new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true), new ColumnInfo("name", ColumnKind.Text), new ColumnInfo("n", ColumnKind.Integer)]);
        await using var sink = Sink(cluster, ""","topic":"cdc.{pipeline}.{database}.{table}" """, pipeline: "main");
        var audit = Event(ChangeOperation.Insert, 9, "x", 0);
        audit.Destination = "audit-log";
        await sink.WriteAsync([Event(ChangeOperation.Insert, 1, "a", 0), Event(ChangeOperation.Insert, 2, "b", 0, orders), Event(ChangeOperation.Insert, 3, "c", 0, odd), audit], CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        Assert.Equal("""{"id":1}""", Assert.Single(cluster.ReadAll("cdc.main.shop.users")).Key);
        Assert.Equal("""{"id":2}""", Assert.Single(cluster.ReadAll("cdc.main.shop.orders")).Key);
        Assert.Equal("""{"id":3}""", Assert.Single(cluster.ReadAll("cdc.main.shop.odd_name_")).Key);
        Assert.Equal("""{"id":9}""", Assert.Single(cluster.ReadAll("audit-log")).Key);

        // headers: [] sends none.
        await using var bare = Sink(cluster, ""","headers":[],"topic":"bare" """);
        await bare.WriteAsync([Event(ChangeOperation.Insert, 1, "a", 0)], CancellationToken.None);
        await bare.FlushAsync(CancellationToken.None);
        Assert.Empty(Assert.Single(cluster.ReadAll("bare")).Headers);
    }

    [Fact]
    public async Task One_row_stays_on_the_java_clients_partition_in_commit_order_and_kcat_reads_the_same()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 6);
        await using var sink = Sink(cluster, ""","producer":{"linger.ms":"2","batch.num.messages":"50"}""");
        const int rows = 300, versions = 5;
        for (var v = 0; v < versions; v++)
        {
            var batch = Enumerable.Range(1, rows).Select(id => Event(v == 0 ? ChangeOperation.Insert : ChangeOperation.Update, id, "user " + id, v)).ToList();
            await sink.WriteAsync(batch, CancellationToken.None);
        }
        await sink.FlushAsync(CancellationToken.None);

        var records = cluster.ReadAll("shop.users");
        Assert.Equal(rows * versions, records.Count);
        Assert.True(records.Select(r => r.Partition).Distinct().Count() == 6, "keys should spread over all partitions");
        foreach (var byKey in records.GroupBy(r => r.Key!))
        {
            var expectedPartition = Murmur2.Partition(System.Text.Encoding.UTF8.GetBytes(byKey.Key), 6);
            Assert.All(byKey, r => Assert.Equal(expectedPartition, r.Partition));
            var ns = byKey.OrderBy(r => r.Offset).Select(r => JsonNode.Parse(r.Value!)!["after"]!["n"]!.GetValue<long>()).ToList();
            Assert.Equal(Enumerable.Range(0, versions).Select(i => (long)i), ns);
        }

        // An independent client (Debian's kcat, its own librdkafka consumer) sees the same keys and values.
        var lines = cluster.Kcat("shop.users");
        Assert.Equal(rows * versions, lines.Count);
        Assert.Equal(records.Select(r => $"{r.Key} {r.Value}").Order(), lines.Order());
    }

    [Fact]
    public void Known_murmur2_values_match_the_java_client()
    {
        // The Java client's values (as librdkafka's own unit test lists them), aligned and unaligned tails.
        Assert.Equal(unchecked((int)0xd067cf64), Murmur2.Hash("kafka"u8));
        Assert.Equal(unchecked((int)0x8f552b0c), Murmur2.Hash("giberish123456789"u8));
        Assert.Equal(unchecked((int)0x9fc97b14), Murmur2.Hash("1234"u8));
        Assert.Equal(unchecked((int)0xe7c009ca), Murmur2.Hash("234"u8));
        Assert.Equal(unchecked((int)0x873930da), Murmur2.Hash("34"u8));
        Assert.Equal(unchecked((int)0x5a4b5ca1), Murmur2.Hash("4"u8));
        Assert.Equal(unchecked((int)0x78424f1c), Murmur2.Hash("PreAmbleWillBeRemoved,ThePrePartThatIs"u8));
        Assert.Equal(0x106e08d9, Murmur2.Hash(""u8));
    }

    [Fact]
    public async Task Debezium_format_envelope_with_tombstones_and_key_changes()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        await using var sink = Sink(cluster, ""","format":"debezium","tombstones":true""", pipeline: "dbz");
        var moved = Event(ChangeOperation.Update, 2, "Bob", 1);
        moved.Before!["id"] = 1L; // the primary key changes from 1 to 2
        var update = Event(ChangeOperation.Update, 2, "Bob", 2);
        update.Before!["n"] = 1L;
        await sink.WriteAsync([Event(ChangeOperation.Insert, 1, "Bob", 0), moved, update, Event(ChangeOperation.Delete, 2, "Bob", 2)], CancellationToken.None);
        await sink.FlushAsync(CancellationToken.None);

        var records = cluster.ReadAll("shop.users").OrderBy(r => r.Offset).ToList();
        // c(1); key change → d(1), tombstone(1), c(2); u(2); d(2), tombstone(2)
        Assert.Equal([("""{"id":1}""", "c"), ("""{"id":1}""", "d"), ("""{"id":1}""", null), ("""{"id":2}""", "c"), ("""{"id":2}""", "u"), ("""{"id":2}""", "d"), ("""{"id":2}""", null)],
            records.Select(r => (r.Key, r.Value is null ? null : JsonNode.Parse(r.Value)!["op"]!.GetValue<string>())).ToList());
        var envelope = JsonNode.Parse(records[4].Value!)!.AsObject();
        Assert.Equal(1, envelope["before"]!["n"]!.GetValue<long>());
        Assert.Equal(2, envelope["after"]!["n"]!.GetValue<long>());
        var source = envelope["source"]!.AsObject();
        Assert.Equal("mysql", source["connector"]!.GetValue<string>());
        Assert.Equal("dbz", source["name"]!.GetValue<string>());
        Assert.Equal("shop", source["db"]!.GetValue<string>());
        Assert.Equal("users", source["table"]!.GetValue<string>());
        Assert.Equal("0-1-1", source["gtid"]!.GetValue<string>());
        Assert.Equal("mysql-bin.000001", source["file"]!.GetValue<string>());
        Assert.Equal(100, source["pos"]!.GetValue<long>());
        Assert.Equal(1_790_000_000_000, source["ts_ms"]!.GetValue<long>());
        Assert.True(envelope["ts_ms"]!.GetValue<long>() > 1_700_000_000_000);
        Assert.Null(JsonNode.Parse(records[5].Value!)!["after"]);
        Assert.Equal("delete", records[6].Headers["op"]);
    }

    [Fact]
    public async Task A_refused_delivery_fails_the_flush_and_the_events_handed_again_arrive()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        await using var sink = Sink(cluster);
        var batch = Enumerable.Range(1, 20).Select(id => Event(ChangeOperation.Insert, id, "u", 0)).ToList();
        // The cluster refuses the next produce requests with a permanent error: those messages fail.
        cluster.PushRequestErrors(KafkaMockCluster.ApiProduce, ErrorCode.MsgSizeTooLarge, ErrorCode.MsgSizeTooLarge);
        await sink.WriteAsync(batch, CancellationToken.None);
        var error = await Assert.ThrowsAsync<KafkaSinkException>(() => sink.FlushAsync(CancellationToken.None).AsTask());
        Assert.Contains("not delivered", error.Message);

        // As the host does: start over from the checkpoint (the same events again) until a pass goes through.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await sink.WriteAsync(batch, CancellationToken.None);
                await sink.FlushAsync(CancellationToken.None);
                break;
            }
            catch (KafkaSinkException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
        var keys = cluster.ReadAll("shop.users").OrderBy(r => r.Offset).Select(r => r.Key!).ToList();
        Assert.Equal(batch.Select(e => $$"""{"id":{{e.After!["id"]}}}""").ToHashSet(), keys.ToHashSet());
        // The last copy of each row is from the final, complete pass, in commit order.
        Assert.Equal(batch.Select(e => $$"""{"id":{{e.After!["id"]}}}"""), keys.TakeLast(20));
    }

    [Fact]
    public async Task With_every_broker_down_the_flush_holds_then_everything_arrives_when_they_return()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 3);
        await using var sink = Sink(cluster, ""","flush_timeout":"1s" """);
        await sink.WriteAsync([Event(ChangeOperation.Insert, 1, "a", 0)], CancellationToken.None);
        // The first delivery also fetches metadata: on a loaded machine it may take longer than the 1 s flush timeout.
        var warmUp = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await sink.FlushAsync(CancellationToken.None);
                break;
            }
            catch (KafkaSinkException) when (DateTime.UtcNow < warmUp) { }
        }

        cluster.SetAllBrokersDown();
        var batch = Enumerable.Range(2, 200).Select(id => Event(ChangeOperation.Insert, id, "u", 0)).ToList();
        await sink.WriteAsync(batch, CancellationToken.None);
        var error = await Assert.ThrowsAsync<KafkaSinkException>(() => sink.FlushAsync(CancellationToken.None).AsTask());
        Assert.Contains("not acknowledged", error.Message);
        Assert.True(((KafkaSink)sink).Outstanding > 0);

        cluster.SetAllBrokersUp();
        // As the host does: retry the flush until it succeeds; the held messages are delivered, none dropped.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await sink.FlushAsync(CancellationToken.None);
                break;
            }
            catch (KafkaSinkException) when (DateTime.UtcNow < deadline) { }
        }
        var keys = cluster.ReadAll("shop.users").Select(r => r.Key).ToHashSet();
        Assert.Equal(201, keys.Count);
    }

    [Fact]
    public void Bad_settings_name_the_key()
    {
        using var cluster = new KafkaMockCluster(1);
        var factory = new KafkaSinkFactory();
        Assert.Equal("bootstrap_servers", Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka"}"""))).Key);
        Assert.Equal("topc", Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka","bootstrap_servers":"x:1","topc":"a"}"""))).Key);
        Assert.Equal("format", Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka","bootstrap_servers":"x:1","format":"avro"}"""))).Key);
        Assert.Equal("topic", Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka","bootstrap_servers":"x:1","topic":"{db}.{table}"}"""))).Key);
        Assert.Equal("headers", Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka","bootstrap_servers":"x:1","headers":["op","nope"]}"""))).Key);
        var producer = Assert.Throws<SinkConfigurationException>(() => factory.Create(SinkContext("""{"type":"kafka","bootstrap_servers":"x:1","producer":{"no.such.setting":"1"}}""")));
        Assert.Equal("producer", producer.Key);
        Assert.Contains("no.such.setting", producer.Message);
    }
}
