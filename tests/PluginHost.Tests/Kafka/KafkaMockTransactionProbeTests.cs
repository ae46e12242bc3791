using Confluent.Kafka;
using PluginHost.Plugins.Kafka;
using PluginHost.Tests.Cluster;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Kafka;

/// <summary>
/// What librdkafka 2.16's mock cluster does with transactions, pinned (docs/kafka.md, "Exactly once on the mock
/// cluster"): what the exactly-once proof can and cannot show on it. See also <see cref="MockClusterSupportTests"/>
/// (no fencing; aborted records shown to read_committed readers).
/// </summary>
[Trait("Category", "Integration")]
public sealed class KafkaMockTransactionProbeTests(ITestOutputHelper output)
{
    private static IProducer<byte[], byte[]> Transactional(KafkaMockCluster cluster, string id)
    {
        KafkaNative.EnsureResolver();
        var p = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, TransactionalId = id, TransactionTimeoutMs = 10000 })
            .SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        p.InitTransactions(TimeSpan.FromSeconds(20));
        return p;
    }

    private static void Send(IProducer<byte[], byte[]> p, byte value) =>
        p.ProduceAsync("out", new Message<byte[], byte[]> { Key = [value], Value = [value] }).GetAwaiter().GetResult();

    [Fact]
    public void The_mock_writes_commit_and_abort_markers_into_the_log()
    {
        // As a real broker does: a control record after each transaction, so offsets have gaps. Clients never show
        // markers; KafkaLogReader reads them over the protocol and applies read_committed from them.
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("out", 1);
        using var p = Transactional(cluster, "probe-markers");
        foreach (var (value, commit) in new[] { ((byte)1, true), ((byte)2, false), ((byte)3, true) })
        {
            p.BeginTransaction();
            Send(p, value);
            if (commit) p.CommitTransaction(TimeSpan.FromSeconds(20));
            else p.AbortTransaction(TimeSpan.FromSeconds(20));
        }
        var records = cluster.ReadAll("out");
        output.WriteLine("value@offset: " + string.Join(", ", records.Select(r => $"{r.ValueBytes![0]}@{r.Offset}")));
        Assert.Equal([(1, 0L), (2, 2L), (3, 4L)], records.Select(r => ((int)r.ValueBytes![0], r.Offset)));
        var log = KafkaLogReader.Read(cluster.BootstrapServers, "out", 0);
        output.WriteLine("log: " + string.Join(", ", log.Select(e => e.Control is { } c ? $"{(c ? "COMMIT" : "ABORT")}@{e.Offset}" : $"{e.Value![0]}@{e.Offset}")));
        Assert.Equal([null, true, null, false, null, true], log.Select(e => e.Control));
        Assert.All(log, e => Assert.True(e.Transactional));
        Assert.Equal([1, 3], KafkaLogReader.Committed(log).Select(e => (int)e.Value![0]));
    }

    [Fact]
    public void An_open_transaction_is_shown_to_read_committed_readers_on_the_mock_and_a_new_producer_does_not_abort_it()
    {
        // A real broker holds read_committed readers at the last stable offset (before the first record of an open
        // transaction) and, when a producer with the same transactional.id initialises, aborts that transaction.
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("out", 1);
        using var dead = Transactional(cluster, "probe-open");
        dead.BeginTransaction();
        Send(dead, 1); // acknowledged, never committed: as after kill -9
        Assert.Equal([1], MockClusterSupportTests.ReadCommitted(cluster, "out"));
        using var successor = Transactional(cluster, "probe-open");
        successor.BeginTransaction();
        Send(successor, 2);
        successor.CommitTransaction(TimeSpan.FromSeconds(20));
        var seen = MockClusterSupportTests.ReadCommitted(cluster, "out");
        output.WriteLine("read_committed after the successor committed: " + string.Join(",", seen));
        Assert.Equal([1, 2], seen);
        // The log: the dead producer's record has no marker, the successor has a producer id of its own (a real broker
        // keeps the id and bumps its epoch), so applying read_committed from the log leaves only 2.
        var log = KafkaLogReader.Read(cluster.BootstrapServers, "out", 0);
        Assert.Equal(3, log.Count);
        Assert.Equal([null, null, true], log.Select(e => e.Control));
        Assert.NotEqual(log[0].ProducerId, log[1].ProducerId);
        Assert.Equal([2], KafkaLogReader.Committed(log).Select(e => (int)e.Value![0]));
    }
}
