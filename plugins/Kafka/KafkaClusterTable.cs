using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>A cluster's shared tables on compacted topics; see <see cref="KafkaClusterTable"/>.</summary>
public sealed class KafkaClusterTableFactory : IClusterTableFactory
{
    public string Type => "kafka";

    public IClusterTable Create(ClusterTableContext context) => new KafkaClusterTable(context);
}

/// <summary>
/// A table the nodes of a cluster share, kept in the compacted topic <c>&lt;cluster&gt;.&lt;table&gt;</c> (one partition,
/// so every node reads the records in one order; created with <c>cleanup.policy=compact</c> when missing). Keys are
/// record keys, values UTF-8 text, a tombstone deletes. Start reads every partition from its beginning to the end it
/// had then and keeps the last record per key (what compaction keeps; a cluster without compaction — the mock — just
/// has more to read), then a thread of its own goes on reading and reports each later record.
/// </summary>
public sealed class KafkaClusterTable : IClusterTable
{
    private readonly ClusterTableContext _context;
    private readonly Dictionary<string, string> _producerConfig;
    private readonly Dictionary<string, string> _consumerConfig;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _produceGate = new();
    private IProducer<string, string?>? _producer;
    private IConsumer<string?, string?>? _consumer;
    private Thread? _thread;

    public KafkaClusterTable(ClusterTableContext context)
    {
        _context = context;
        var o = SettingsBinder.Bind<KafkaClusterOptions>(context.Settings);
        if (string.IsNullOrWhiteSpace(o.BootstrapServers) && !o.Client.ContainsKey("bootstrap.servers"))
            throw new SinkConfigurationException("bootstrap_servers", "is required");
        Location = context.Cluster + "." + context.Table;
        if (TopicNames.Sanitize(Location) != Location) throw new SinkConfigurationException("name", $"'{Location}' is not a valid topic name");
        var client = $"{context.NodeId}-{context.Table}";
        _producerConfig = KafkaClients.ReliableProducerDefaults(o.BootstrapServers, client);
        _producerConfig["linger.ms"] = "0";
        _producerConfig["message.timeout.ms"] = ((long)context.Timeout.TotalMilliseconds).ToString();
        _producerConfig["partitioner"] = "murmur2";
        _producerConfig.Remove("dotnet.producer.delivery.report.fields");
        _consumerConfig = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = o.BootstrapServers,
            ["client.id"] = client,
            ["group.id"] = $"pluginhost-cluster-{context.Cluster}-{context.Table}-{context.NodeId}", // required by the client; never joined (we assign)
            ["enable.auto.commit"] = "false",
            ["enable.partition.eof"] = "true",
            ["auto.offset.reset"] = "earliest",
            ["fetch.wait.max.ms"] = "500", // a long poll: six idle followers per three nodes cost the brokers little
        };
        foreach (var (k, v) in o.Client)
        {
            _producerConfig[k] = v;
            _consumerConfig[k] = v;
        }
        KafkaNative.EnsureResolver();
    }

    public string Location { get; }

    public async Task<IReadOnlyDictionary<string, string>> StartAsync(Action<string, string?> changed, CancellationToken cancellationToken)
    {
        using (var creator = new TopicCreator(() => KafkaClients.BuildAdmin(_producerConfig, _context.Logger), _producerConfig["bootstrap.servers"], 1, -1,
                   new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, _context.Logger, _context.Timeout))
        {
            try
            {
                await creator.EnsureAsync([Location], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KafkaException or TimeoutException)
            {
                _context.Logger.Warning($"cannot create the topic '{Location}': {e.Message}; create it with cleanup.policy=compact");
            }
        }
        return await Task.Run(() => ReadToEnd(changed, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private IReadOnlyDictionary<string, string> ReadToEnd(Action<string, string?> changed, CancellationToken cancellationToken)
    {
        var timeout = _context.Timeout;
        var deadline = DateTime.UtcNow + timeout;
        var consumer = new ConsumerBuilder<string?, string?>(_consumerConfig)
            .SetLogHandler(KafkaClients.LogHandler(_context.Logger))
            .SetErrorHandler((_, _) => { })
            .Build();
        try
        {
            List<TopicPartition> partitions;
            using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
            {
                var topic = admin.GetMetadata(Location, timeout).Topics.FirstOrDefault(t => t.Topic == Location);
                if (topic is null || topic.Partitions.Count == 0 || topic.Error.IsError)
                    throw new KafkaException(topic?.Error is { IsError: true } e ? e : new Error(ErrorCode.UnknownTopicOrPart, $"topic '{Location}' does not exist"));
                partitions = topic.Partitions.Select(p => new TopicPartition(Location, p.PartitionId)).ToList();
            }
            var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, timeout).High.Value);
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            var table = new Dictionary<string, string>(StringComparer.Ordinal);
            var open = ends.Where(kv => kv.Value > 0).Select(kv => kv.Key).ToHashSet();
            while (open.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline)
                    throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"reading topic '{Location}' to its end took longer than {timeout.TotalSeconds:0} s"));
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                if (!r.IsPartitionEOF && r.Message.Key is { } key)
                {
                    if (r.Message.Value is { } value) table[key] = value;
                    else table.Remove(key);
                }
                if (r.Offset.Value >= ends[r.Partition.Value] - (r.IsPartitionEOF ? 0 : 1)) open.Remove(r.Partition.Value);
            }
            _consumer = consumer;
            _thread = new Thread(() => Follow(changed)) { IsBackground = true, Name = "cluster-table-" + _context.Table };
            _thread.Start();
            return table;
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>Reports every record after the start's end, in order, until disposed.</summary>
    private void Follow(Action<string, string?> changed)
    {
        var trouble = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var r = _consumer!.Consume(TimeSpan.FromMilliseconds(200));
                trouble = false;
                if (r is null || r.IsPartitionEOF || r.Message.Key is not { } key) continue;
                changed(key, r.Message.Value);
            }
            catch (ConsumeException e)
            {
                if (!trouble) _context.Logger.Warning($"reading topic '{Location}': {KafkaClients.Describe(e.Error)}");
                trouble = true;
                Thread.Sleep(200);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The listener's failure must not end the reading (nor the process).
                _context.Logger.Error($"applying a record of topic '{Location}' failed: {e.Message}");
            }
        }
    }

    public async Task PutAsync(string key, string? value, CancellationToken cancellationToken)
    {
        IProducer<string, string?> producer;
        lock (_produceGate)
        {
            producer = _producer ??= new ProducerBuilder<string, string?>(_producerConfig)
                .SetLogHandler(KafkaClients.LogHandler(_context.Logger))
                .SetErrorHandler((_, _) => { })
                .Build();
        }
        DeliveryResult<string, string?> result;
        try
        {
            result = await producer.ProduceAsync(Location, new Message<string, string?> { Key = key, Value = value }, cancellationToken)
                .WaitAsync(_context.Timeout + TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        catch (ProduceException<string, string?> e)
        {
            throw new InvalidOperationException($"cannot write '{key}' to topic '{Location}': {KafkaClients.Describe(e.Error)}", e);
        }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"cannot write '{key}' to topic '{Location}': no acknowledgement within {_context.Timeout.TotalSeconds:0} s", e);
        }
        if (result.Status != PersistenceStatus.Persisted)
            throw new InvalidOperationException($"'{key}' may not be persisted in topic '{Location}' ({result.Status})");
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        try { _consumer?.Close(); } catch (KafkaException) { }
        _consumer?.Dispose();
        lock (_produceGate)
        {
            _producer?.Flush(TimeSpan.FromSeconds(2));
            _producer?.Dispose();
            _producer = null;
        }
        return ValueTask.CompletedTask;
    }
}
