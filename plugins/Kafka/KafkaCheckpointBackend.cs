using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Keeps pipeline checkpoints in a compacted Kafka topic (default <c>pluginhost.state</c>), one record per pipeline
/// keyed by its name. A save produces the record and returns only when the cluster acknowledged it (acks=all,
/// idempotent); otherwise it throws and the pipeline holds. A load reads the key's partition (the Java client's
/// murmur2 partition of the pipeline name) from the start to its end; the last record wins, a tombstone deletes.
/// </summary>
public sealed class KafkaCheckpointBackend : ICheckpointBackend
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly KafkaCheckpointOptions _options;
    private readonly IPluginLogger _logger;
    private readonly Dictionary<string, string> _producerConfig;
    private readonly Dictionary<string, string> _consumerConfig;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TopicCreator? _creator;
    private IProducer<byte[], byte[]?>? _producer;
    private volatile bool _topicChecked;

    public KafkaCheckpointBackend(CheckpointBackendContext context)
    {
        _logger = context.Logger;
        _options = context.Bind<KafkaCheckpointOptions>();
        var o = _options;
        if (string.IsNullOrWhiteSpace(o.BootstrapServers)) o.BootstrapServers = SinkBootstrapServers(context.SinkSettings) ?? "";
        if (string.IsNullOrWhiteSpace(o.BootstrapServers) && !o.Client.ContainsKey("bootstrap.servers"))
            throw new SinkConfigurationException("bootstrap_servers", "is required (or use a kafka sink, whose bootstrap_servers is then used)");
        if (string.IsNullOrWhiteSpace(o.Topic) || TopicNames.Sanitize(o.Topic) != o.Topic)
            throw new SinkConfigurationException("topic", $"'{o.Topic}' is not a valid topic name (letters, digits, '.', '_', '-')");
        if (o.Partitions is 0 or < -1) throw new SinkConfigurationException("partitions", "must be ≥ 1 (or -1 for the broker's default)");
        if (o.ReplicationFactor is 0 or < -1 or > short.MaxValue) throw new SinkConfigurationException("replication_factor", "must be ≥ 1 (or -1 for the broker's default)");
        if (o.Timeout < TimeSpan.FromSeconds(1)) throw new SinkConfigurationException("timeout", "must be at least 1s");
        if (ExactlyOnceSink.Of(context.SinkSettings) is { } sink)
        {
            // The sink commits the checkpoint in its own transactions: same cluster, and a transactional id (the pipeline's).
            if (!ExactlyOnceSink.SameCluster(sink, o.BootstrapServers))
                throw new SinkConfigurationException("bootstrap_servers", $"'{o.BootstrapServers}' is not the Kafka cluster of the sink ('{sink}'): " +
                                                                          "sink.exactly_once commits events and checkpoint in one transaction, so both must be on one cluster");
            if (string.IsNullOrWhiteSpace(o.TransactionalId)) o.TransactionalId = "pluginhost-" + context.PipelineName;
        }

        _producerConfig = KafkaClients.ReliableProducerDefaults(o.BootstrapServers, $"pluginhost-state-{context.PipelineName}");
        _producerConfig["linger.ms"] = "0";
        _producerConfig["message.timeout.ms"] = ((long)o.Timeout.TotalMilliseconds).ToString();
        _producerConfig.Remove("dotnet.producer.delivery.report.fields");
        if (!string.IsNullOrWhiteSpace(o.TransactionalId)) _producerConfig["transactional.id"] = o.TransactionalId;
        _consumerConfig = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = o.BootstrapServers,
            ["client.id"] = $"pluginhost-state-{context.PipelineName}",
            ["group.id"] = $"pluginhost-state-{context.PipelineName}", // required by the client; never joined (we assign)
            ["enable.auto.commit"] = "false",
            ["enable.partition.eof"] = "true",
            ["auto.offset.reset"] = "earliest",
            ["isolation.level"] = "read_committed",
        };
        foreach (var (k, v) in o.Client)
        {
            _producerConfig[k] = v;
            _consumerConfig[k] = v;
        }
        KafkaClients.WarnAboutWeakSettings(o.Client, _logger, "checkpoint.settings.client");
        KafkaNative.EnsureResolver();
        try
        {
            // Settings are checked now, so bad ones are reported with the configuration; the producer itself is built
            // on first use (building and disposing one only to validate cost a fifth of a second at every start).
            NativeProducer.ValidateSettings(_producerConfig);
        }
        catch (DllNotFoundException e)
        {
            throw new SinkConfigurationException("type", KafkaNative.NotFoundMessage(e));
        }
        catch (Exception e) when (e is ArgumentException or KafkaException or InvalidOperationException)
        {
            throw new SinkConfigurationException("client", e.Message);
        }
        if (o.CreateTopic)
            _creator = new TopicCreator(() => KafkaClients.BuildAdmin(_producerConfig, _logger), _producerConfig["bootstrap.servers"],
                o.Partitions, o.ReplicationFactor, new Dictionary<string, string>(o.TopicConfig) { ["cleanup.policy"] = "compact" }, _logger, o.Timeout);
    }

    private static string? SinkBootstrapServers(JsonElement sink) =>
        sink.ValueKind == JsonValueKind.Object && sink.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "kafka" &&
        sink.TryGetProperty("bootstrap_servers", out var b) && b.ValueKind == JsonValueKind.String
            ? b.GetString()
            : null;

    private IProducer<byte[], byte[]?> BuildProducer()
    {
        var producer = new ProducerBuilder<byte[], byte[]?>(_producerConfig)
            .SetLogHandler(KafkaClients.LogHandler(_logger))
            .SetErrorHandler((_, e) => { if (e.IsFatal) _logger.Error($"Kafka checkpoint producer: fatal error: {KafkaClients.Describe(e)}"); })
            .Build();
        if (_options.TransactionalId is { Length: > 0 })
        {
            try
            {
                producer.InitTransactions(_options.Timeout); // fences any older producer of this pipeline
            }
            catch
            {
                producer.Dispose();
                throw;
            }
        }
        return producer;
    }

    /// <summary>The partition of the state topic that holds <paramref name="pipeline"/>'s records.</summary>
    public static int PartitionOf(string pipeline, int partitions) => Murmur2.Partition(Encoding.UTF8.GetBytes(pipeline), partitions);

    public async Task<CheckpointState?> LoadAsync(string pipeline, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A transactional store fences the pipeline's previous owner first: its open transaction is aborted,
                // so the read below is not held up behind it and sees only what that owner committed.
                if (_options.TransactionalId is { Length: > 0 } && FencedBecause is null) await InitTransactionsAsync(cancellationToken).ConfigureAwait(false);
                var (found, missing) = await Task.Run(() => LoadOnce(pipeline, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (missing) await EnsureTopicAsync(cancellationToken).ConfigureAwait(false);
                _topicChecked = true;
                return found;
            }
            catch (KafkaException e) when (KafkaClients.IsTransient(e.Error) && !cancellationToken.IsCancellationRequested)
            {
                _logger.Warning($"cannot read the checkpoint from Kafka topic '{_options.Topic}' (attempt {attempt}): {KafkaClients.Describe(e.Error)}; retrying in {delay.TotalSeconds:0} s");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }

    /// <summary>
    /// Builds the transactional producer (its <c>InitTransactions</c> fences the previous owner) under the gate, and
    /// waits for it even when cancelled: librdkafka aborts the process when a producer is destroyed during a
    /// transactional call, so <see cref="DisposeAsync"/> must not run while one is in progress.
    /// </summary>
    private async Task InitTransactionsAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Run(() => Producer, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the pipeline's last record; <c>Missing</c> when the state topic does not exist yet.</summary>
    private (CheckpointState? Found, bool Missing) LoadOnce(string pipeline, CancellationToken cancellationToken)
    {
        var timeout = _options.Timeout;
        var deadline = DateTime.UtcNow + timeout;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(_consumerConfig)
            .SetLogHandler(KafkaClients.LogHandler(_logger))
            .SetErrorHandler((_, _) => { })
            .Build();
        if (KafkaPartitionScan.PartitionCount(consumer, _options.Topic, timeout) is not { } partitions) return (null, true);
        StatePartitions = partitions;
        var tp = new TopicPartition(_options.Topic, PartitionOf(pipeline, partitions));
        var key = Encoding.UTF8.GetBytes(pipeline);
        CheckpointState? last = null;
        KafkaPartitionScan.ReadToEnd(consumer, tp, deadline, timeout, cancellationToken, r =>
        {
            if (r.Message.Key is { } k && k.AsSpan().SequenceEqual(key))
                last = r.Message.Value is null ? null : Parse(r.Message.Value, tp, r.Offset);
        });
        consumer.Close();
        return (last, false);
    }

    private static CheckpointState Parse(byte[] value, TopicPartition tp, Offset offset)
    {
        try
        {
            return JsonSerializer.Deserialize<CheckpointState>(value, Json) ?? throw new JsonException("null record");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"checkpoint record at {tp} offset {offset.Value} is not valid ({e.Message}); delete it (produce a tombstone for the pipeline's key) to start over", e);
        }
    }

    /// <summary>Creates the compacted state topic (it does not exist); says once when the cluster will not.</summary>
    private async Task EnsureTopicAsync(CancellationToken cancellationToken)
    {
        if (_creator is null) return;
        await _creator.EnsureAsync([_options.Topic], cancellationToken).ConfigureAwait(false);
        if (_creator.Refused)
            _logger.Warning($"the checkpoint topic '{_options.Topic}' could not be created; the first save relies on the broker's auto-creation — " +
                            "create it yourself with cleanup.policy=compact so old checkpoints are compacted away");
    }

    public Task SaveAsync(string pipeline, CheckpointState checkpoint, CancellationToken cancellationToken)
    {
        if (CommittedBySink is { } sink)
        {
            // Exactly once: the sink committed the checkpoint with its events before it acknowledged them; this only confirms it.
            return sink.Covers(checkpoint)
                ? Task.CompletedTask
                : Task.FromException(new KafkaSinkException($"the checkpoint of '{pipeline}' at {checkpoint.File}:{checkpoint.Position} was not committed with its events (exactly_once)"));
        }
        return ProduceAsync(pipeline, RecordValue(pipeline, checkpoint), cancellationToken);
    }

    /// <summary>The record value of a checkpoint (what <see cref="SaveAsync"/> produces).</summary>
    internal static byte[] RecordValue(string pipeline, CheckpointState checkpoint) =>
        JsonSerializer.SerializeToUtf8Bytes(new Record(pipeline, checkpoint.File, checkpoint.Position, checkpoint.Gtid,
            checkpoint.UpdatedAt, checkpoint.EventsDelivered, checkpoint.LastEventTime, checkpoint.Snapshot), Json);

    /// <summary>Set when an exactly-once sink commits this pipeline's checkpoints in its transactions.</summary>
    internal ExactlyOnceCommits? CommittedBySink { get; set; }

    /// <summary>Partitions of the state topic as read at load (0: unknown, the topic did not exist).</summary>
    internal int StatePartitions { get; private set; }

    internal KafkaCheckpointOptions Options => _options;

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken) => ProduceAsync(pipeline, null, cancellationToken);

    private async Task ProduceAsync(string pipeline, byte[]? value, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_topicChecked)
            {
                // Normally the load at start did this; a delete may come first. Creating an existing topic is harmless.
                await EnsureTopicAsync(cancellationToken).ConfigureAwait(false);
                _topicChecked = true;
            }
            var message = new Message<byte[], byte[]?> { Key = Encoding.UTF8.GetBytes(pipeline), Value = value };
            if (_options.TransactionalId is { Length: > 0 })
            {
                await Task.Run(() => KafkaTransactionalSave.Save(this, _options, pipeline, message), CancellationToken.None).ConfigureAwait(false);
                return;
            }
            DeliveryResult<byte[], byte[]?> result;
            try
            {
                result = await Producer.ProduceAsync(_options.Topic, message, cancellationToken)
                    .WaitAsync(_options.Timeout + TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
            catch (ProduceException<byte[], byte[]?> e)
            {
                if (e.Error.IsFatal) ReplaceProducer();
                throw new KafkaSinkException($"cannot save the checkpoint of '{pipeline}' to Kafka topic '{_options.Topic}': {KafkaClients.Describe(e.Error)}", e);
            }
            catch (TimeoutException e)
            {
                throw new KafkaSinkException($"cannot save the checkpoint of '{pipeline}' to Kafka topic '{_options.Topic}': no acknowledgement within {_options.Timeout.TotalSeconds:0} s", e);
            }
            if (result.Status != PersistenceStatus.Persisted)
                throw new KafkaSinkException($"the checkpoint of '{pipeline}' may not be persisted in '{_options.Topic}' ({result.Status})");
        }
        finally
        {
            _gate.Release();
        }
    }

    internal IProducer<byte[], byte[]?> Producer => _producer ??= BuildProducer();

    /// <summary>Set once another store with the same transactional id fenced this one: it never saves again.</summary>
    internal string? FencedBecause { get; set; }

    private void ReplaceProducer()
    {
        var old = _producer;
        _producer = null;
        old?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _creator?.Dispose();
        // A save or InitTransactions in progress finishes first (bounded by timeout): destroying a transactional
        // producer during one aborts the process inside librdkafka.
        await _gate.WaitAsync().ConfigureAwait(false);
        _producer?.Dispose();
        _producer = null;
        _gate.Dispose();
    }

    /// <summary>The record value: the checkpoint plus the pipeline name (for people reading the topic). Records without
    /// <c>last_event_time</c> (older versions) read as null.</summary>
    private sealed record Record(string Pipeline, string File, long Position, string? Gtid, DateTimeOffset UpdatedAt, long EventsDelivered, DateTimeOffset? LastEventTime, string? Snapshot);
}

/// <summary><c>checkpoint: { type: kafka, settings: { … } }</c> — see <see cref="KafkaCheckpointOptions"/>.</summary>
public sealed class KafkaCheckpointBackendFactory : ICheckpointBackendFactory
{
    public string Type => "kafka";

    public ICheckpointBackend Create(CheckpointBackendContext context) => new KafkaCheckpointBackend(context);
}
