using System.Text.Json.Nodes;
using PluginHost.Plugins.Kafka;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Kafka.KafkaTestSupport;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// The exactly-once sink on its own against the mock cluster, read back from the log's markers (<see cref="KafkaLogReader"/>):
/// what one Kafka transaction holds, the tail after a batch's last transaction end, aborts, and the write guard.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KafkaExactlyOnceSinkTests
{
    private static async Task<(ITransactionalSink Sink, ICheckpointBackend Store)> OpenAsync(KafkaMockCluster cluster, Func<string?> mayWrite, string interval = "20ms")
    {
        var sinkJson = $$"""{"type":"kafka","bootstrap_servers":"{{cluster.BootstrapServers}}","create_topics":false,"exactly_once":true,"commit_interval":"{{interval}}"}""";
        var store = new KafkaCheckpointBackendFactory().Create(new CheckpointBackendContext("p1", Json("""{"topic":"state","create_topic":false,"timeout":"10s"}"""),
            Json(sinkJson), new RecordingLogger(), AppContext.BaseDirectory));
        Assert.Null(await store.LoadAsync("p1", CancellationToken.None));
        var sink = (ITransactionalSink)new KafkaSinkFactory().Create(SinkContext(sinkJson, "p1"));
        Assert.True(sink.JoinCheckpoints(store, mayWrite));
        return (sink, store);
    }

    private static CheckpointState At(long pos, long delivered) => new("mysql-bin.000001", pos, null, DateTimeOffset.UtcNow, delivered);

    private static List<long> CommittedIds(KafkaMockCluster cluster) =>
        KafkaLogReader.Committed(KafkaLogReader.Read(cluster.BootstrapServers, "shop.users", 0)).Select(e => JsonNode.Parse(e.Value!)!["after"]!["id"]!.GetValue<long>()).ToList();

    [Fact]
    public async Task Commits_events_up_to_the_checkpoint_with_it_holds_the_tail_and_aborts_a_transaction_cut_inside_a_binlog_transaction()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        cluster.CreateTopic("state", 1);
        var (sink, store) = await OpenAsync(cluster, () => null);
        await using (store)
        await using (sink)
        {
            // Batch 1: ids 1, 2 end a binlog transaction; id 3 begins the next (the tail waits in the sink).
            var acked = await sink.SendAsync([Event(ChangeOperation.Insert, 1, "a", 0), Event(ChangeOperation.Insert, 2, "b", 0), Event(ChangeOperation.Insert, 3, "c", 0)],
                At(200, 2), 2, CancellationToken.None);
            await acked.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal([1, 2], CommittedIds(cluster));
            var state = KafkaLogReader.Committed(KafkaLogReader.Read(cluster.BootstrapServers, "state", 0));
            Assert.Equal(200, JsonNode.Parse(Assert.Single(state).Value!)!["position"]!.GetValue<long>());

            // Batch 2 ends inside that transaction: the tail and it are produced; a stop aborts them (they are read again).
            var mid = await sink.SendAsync([Event(ChangeOperation.Insert, 4, "d", 0)], null, 0, CancellationToken.None);
            Assert.True(mid.IsCompletedSuccessfully);
            await sink.FlushAsync(CancellationToken.None);
            var log = KafkaLogReader.Read(cluster.BootstrapServers, "shop.users", 0);
            Assert.Equal([1, 2], CommittedIds(cluster));
            // (an abort may purge messages before they are sent: the log holds at most 3 and 4 as aborted records)
            Assert.InRange(log.Count(e => e.Control is null), 2, 4);
            Assert.Equal(true, log.First(e => e.Control is not null).Control);
            Assert.All(log.Where(e => e.Control is not null).Skip(1), e => Assert.Equal(false, e.Control));

            // Starting over from the checkpoint: 3, 4 and the end of their transaction are committed once.
            Assert.True(sink.JoinCheckpoints(store, () => null));
            var again = await sink.SendAsync([Event(ChangeOperation.Insert, 3, "c", 0), Event(ChangeOperation.Insert, 4, "d", 0), Event(ChangeOperation.Insert, 5, "e", 0)],
                At(300, 5), 3, CancellationToken.None);
            await again.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal([1, 2, 3, 4, 5], CommittedIds(cluster));
            await store.SaveAsync("p1", At(300, 5), CancellationToken.None); // the host's save only confirms the commit
            await Assert.ThrowsAsync<KafkaSinkException>(() => store.SaveAsync("p1", At(400, 6), CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_commit_the_write_guard_refuses_is_aborted_and_fails_the_batch()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("shop.users", 1);
        cluster.CreateTopic("state", 1);
        string? refusal = null;
        var (sink, store) = await OpenAsync(cluster, () => refusal);
        await using (store)
        await using (sink)
        {
            await (await sink.SendAsync([Event(ChangeOperation.Insert, 1, "a", 0)], At(200, 1), 1, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(20));
            refusal = "self-fenced: membership not confirmed";
            var refused = await sink.SendAsync([Event(ChangeOperation.Insert, 2, "b", 0)], At(300, 2), 1, CancellationToken.None);
            var error = await Assert.ThrowsAnyAsync<Exception>(() => refused.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("not committed: self-fenced", error.Message);
            Assert.Equal([1], CommittedIds(cluster));
            Assert.Contains(false, KafkaLogReader.Read(cluster.BootstrapServers, "shop.users", 0).Select(e => e.Control)); // aborted
        }
    }
}
