using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Produces each event to its topic with an idempotent, <c>acks=all</c> producer. <see cref="FlushAsync"/> returns
/// only when the cluster acknowledged every message produced so far, and throws when any delivery failed since the
/// last flush: the host then starts over from its last checkpoint and hands those events again (duplicates are
/// possible, loss and per-row reordering are not). While the cluster is unreachable messages wait in the producer —
/// they never time out by default — and the pipeline holds; after <c>flush_timeout</c> the flush reports the delay
/// (the pipeline shows as retrying) and the next write first waits for those messages, so a long outage does not
/// pile up copies. Through <see cref="SendAsync"/> each batch is acknowledged on its own as the cluster acknowledges
/// its messages (each message carries its batch's tag), so the host never stops to flush between batches.
/// </summary>
public sealed partial class KafkaSink : ITransactionalSink, ISinkHealth
{
    private readonly KafkaSinkOptions _options;
    private readonly IPluginLogger _logger;
    private readonly Dictionary<string, string> _config;
    private readonly EventEncoder _encoder;
    private readonly TopicNames _topics;
    private readonly TopicCreator? _creator;
    private readonly object _zeroGate = new();
    private readonly List<PendingMessage> _scratch = new(4);
    private readonly MessageHeader[] _headers = new MessageHeader[4];
    private readonly HashSet<string> _newTopics = new(StringComparer.Ordinal);
    private readonly KafkaClients.Throttle _errorThrottle = new(TimeSpan.FromSeconds(30));
    private readonly string _pipeline;
    private NativeProducer _producer = null!; // exactly once: made when the sink joins the checkpoint store
    private TaskCompletionSource? _zero;
    private long _outstanding;
    private int _failures;
    private Error? _firstError;
    private volatile bool _fatal;
    private volatile bool _drainFirst;

    // Batches handed over through SendAsync and not yet acknowledged, by tag; under _owedGate.
    private readonly object _owedGate = new();
    private readonly Dictionary<long, OwedBatch> _owed = new();
    private long _nextTag = 1;
    private OwedBatch? _current; // the batch being produced (producing thread only)
    private (Error Error, long At)? _lastClientError;
    private long _produced, _acknowledged;

    public KafkaSink(SinkContext context)
    {
        _logger = context.Logger;
        _options = context.Bind<KafkaSinkOptions>();
        var o = _options;
        if (string.IsNullOrWhiteSpace(o.BootstrapServers) && !o.Producer.ContainsKey("bootstrap.servers"))
            throw new SinkConfigurationException("bootstrap_servers", "is required (host:port[,host:port…])");
        if (TopicNames.Validate(o.Topic) is { } topicError) throw new SinkConfigurationException("topic", topicError);
        if (o.Partitions is 0 or < -1) throw new SinkConfigurationException("partitions", "must be ≥ 1 (or -1 for the broker's default)");
        if (o.ReplicationFactor is 0 or < -1 or > short.MaxValue) throw new SinkConfigurationException("replication_factor", "must be ≥ 1 (or -1 for the broker's default)");
        if (o.FlushTimeout <= TimeSpan.Zero) throw new SinkConfigurationException("flush_timeout", "must be positive");
        if (o.CommitInterval < TimeSpan.FromMilliseconds(1) || o.CommitInterval > TimeSpan.FromMinutes(1))
            throw new SinkConfigurationException("commit_interval", "must be 1ms-1m");
        _pipeline = context.PipelineName;
        _config = KafkaClients.ReliableProducerDefaults(o.BootstrapServers, $"pluginhost-{context.PipelineName}");
        foreach (var (k, v) in o.Producer) _config[k] = v;
        KafkaClients.WarnAboutWeakSettings(o.Producer, _logger, "producer");
        if (o.Headers.FirstOrDefault(h => !EventEncoder.KnownHeaders.Contains(h)) is { } unknownHeader)
            throw new SinkConfigurationException("headers", $"'{unknownHeader}' is not a header the sink can send (known: {string.Join(", ", EventEncoder.KnownHeaders)})");
        _topics = new TopicNames(o.Topic, context.PipelineName);
        _encoder = new EventEncoder(o.Format, context.PipelineName, o.Headers, _topics);
        if (o.ExactlyOnce)
        {
            // A transactional producer's messages time out with the transaction (librdkafka refuses message.timeout.ms=0 there).
            if (_config.GetValueOrDefault("message.timeout.ms") == "0") _config.Remove("message.timeout.ms");
            try
            {
                NativeProducer.ValidateSettings(new Dictionary<string, string>(_config) { ["transactional.id"] = "pluginhost-validate" });
            }
            catch (DllNotFoundException e)
            {
                throw new SinkConfigurationException("type", KafkaNative.NotFoundMessage(e));
            }
            catch (ArgumentException e)
            {
                throw new SinkConfigurationException("producer", $"{e.Message} (with exactly_once: true the producer is transactional)");
            }
        }
        else _producer = Build();
        if (o.CreateTopics)
            _creator = new TopicCreator(() => KafkaClients.BuildAdmin(_config, _logger), _config["bootstrap.servers"], o.Partitions, o.ReplicationFactor,
                o.TopicConfig, _logger, TimeSpan.FromSeconds(15));
    }

    /// <summary>Messages handed to the producer.</summary>
    public long Produced => Interlocked.Read(ref _produced);

    /// <summary>Messages the cluster acknowledged.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Messages produced and not yet acknowledged (or failed).</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    private NativeProducer Build()
    {
        try
        {
            return new NativeProducer(_config, _logger, OnAcknowledged, OnFailed, OnClientError);
        }
        catch (DllNotFoundException e)
        {
            throw new SinkConfigurationException("type", KafkaNative.NotFoundMessage(e));
        }
        catch (ArgumentException e)
        {
            throw new SinkConfigurationException("producer", e.Message);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new SinkConfigurationException("type", $"the system's librdkafka is too old ({e.Message}); PluginHost needs librdkafka 1.9 or newer");
        }
    }

    public async ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        if (_options.ExactlyOnce)
            throw new KafkaSinkException("exactly_once: true needs the pipeline's checkpoint in Kafka (checkpoint: { type: kafka }); the host did not offer it");
        var owed = new OwedBatch(_nextTag++);
        lock (_owedGate) _owed.Add(owed.Tag, owed);
        _current = owed;
        try
        {
            await WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Settle(owed, e);
            throw;
        }
        finally
        {
            _current = null;
        }
        Reported(owed, 1); // (the hold taken at creation: the batch completes once all its messages are reported)
        return owed.Done.Task;
    }

    public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
        if (_creator is { Refused: false })
        {
            _newTopics.Clear();
            foreach (var e in batch)
            {
                var t = _topics.For(e);
                if (_creator.Needs(t)) _newTopics.Add(t);
            }
            if (_newTopics.Count > 0) await _creator.EnsureAsync(_newTopics, cancellationToken).ConfigureAwait(false);
        }
        foreach (var e in batch)
        {
            if (Simple(e))
            {
                // The common case: one message, produced straight from the encoder's buffers.
                var topic = _topics.For(e);
                var hasKey = _encoder.TryKey(e, null, out var key);
                var value = _encoder.ValueSpan(e);
                var headers = _encoder.Headers(e, e.Op, _headers);
                if (!TryProduce(topic, key, hasKey, value, true, _headers.AsSpan(0, headers)))
                    await ProduceWhenRoomAsync(new PendingMessage(topic, hasKey ? key.ToArray() : null, value.ToArray(), _headers[..headers]), cancellationToken).ConfigureAwait(false);
                continue;
            }
            Encode(e);
            foreach (var message in _scratch)
                if (!TryProduce(message.Topic, message.Key, message.Key != null, message.Value, message.Value != null, message.Headers))
                    await ProduceWhenRoomAsync(message, cancellationToken).ConfigureAwait(false);
        }
        _producer.ServeWaitingReports();
    }

    /// <summary>One message per event: not a Debezium key change, not a delete followed by a tombstone.</summary>
    private bool Simple(ChangeEvent e) =>
        !(_options.Format == KafkaFormat.Debezium && EventEncoder.ChangesKey(e)) && !(e.Op == ChangeOperation.Delete && _options.Tombstones);

    /// <summary>The messages one event becomes (in <see cref="_scratch"/>), each owning its bytes.</summary>
    private void Encode(ChangeEvent e)
    {
        _scratch.Clear();
        var topic = _topics.For(e);
        MessageHeader[] Headers(ChangeOperation op) => _headers[.._encoder.Headers(e, op, _headers)];
        if (_options.Format == KafkaFormat.Debezium && EventEncoder.ChangesKey(e))
        {
            // Debezium's rule for a primary-key change: a delete under the old key (then its tombstone), a create under the new one.
            var oldKey = _encoder.Key(e, e.Before);
            _scratch.Add(new PendingMessage(topic, oldKey, _encoder.Value(e, ChangeOperation.Delete, e.Before, null), Headers(ChangeOperation.Delete)));
            if (_options.Tombstones) _scratch.Add(new PendingMessage(topic, oldKey, null, Headers(ChangeOperation.Delete)));
            _scratch.Add(new PendingMessage(topic, _encoder.Key(e, e.After), _encoder.Value(e, ChangeOperation.Insert, null, e.After), Headers(ChangeOperation.Insert)));
            return;
        }
        var key = _encoder.Key(e);
        _scratch.Add(new PendingMessage(topic, key, _encoder.Value(e), Headers(e.Op)));
        if (e.Op == ChangeOperation.Delete && _options.Tombstones && key != null)
            _scratch.Add(new PendingMessage(topic, key, null, Headers(e.Op)));
    }

    /// <summary>A message that owns its bytes (header bytes stay valid until the next event is encoded).</summary>
    private readonly record struct PendingMessage(string Topic, byte[]? Key, byte[]? Value, MessageHeader[] Headers);

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_options.ExactlyOnce)
        {
            await FlushTransactionAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await PrepareAsync(cancellationToken).ConfigureAwait(false);
        if (!await DrainAsync(cancellationToken).ConfigureAwait(false))
        {
            _drainFirst = true;
            throw new KafkaSinkException($"{Outstanding} message(s) not acknowledged within {_options.FlushTimeout.TotalSeconds:0.#} s" +
                                         (RecentClientError() is { } err ? $" ({KafkaClients.Describe(err)})" : "") +
                                         "; they stay queued in the producer and the pipeline holds until the cluster takes them");
        }
        ThrowIfFailed();
    }

    /// <summary>Waits until nothing is outstanding; false after <c>flush_timeout</c>.</summary>
    private async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_options.FlushTimeout.TotalMilliseconds;
        while (true)
        {
            TaskCompletionSource wait;
            lock (_zeroGate)
            {
                if (Interlocked.Read(ref _outstanding) == 0 || _fatal) return true;
                wait = _zero = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            try
            {
                await wait.Task.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                if (Environment.TickCount64 >= deadline) return false;
            }
        }
    }

    /// <summary>Throws (once) when a delivery failed since the last check: the host starts over from its checkpoint.</summary>
    private void ThrowIfFailed()
    {
        var failures = Interlocked.Exchange(ref _failures, 0);
        if (failures == 0 && !_fatal) return;
        var error = Interlocked.Exchange(ref _firstError, null) ?? new Error(ErrorCode.Local_Fatal, "the producer failed");
        throw new KafkaSinkException($"{failures} message(s) were not delivered ({KafkaClients.Describe(error)})");
    }

    /// <summary>Before producing: replaces a producer that hit a fatal error; after a timed-out flush, waits for what is still queued.</summary>
    private async ValueTask PrepareAsync(CancellationToken cancellationToken)
    {
        if (_fatal && _options.ExactlyOnce)
            throw new KafkaSinkException($"the transactional producer hit a fatal error ({KafkaClients.Describe(_firstError ?? new Error(ErrorCode.Local_Fatal))}); it is not replaced (a new one would fence the pipeline's owner): restart the pipeline");
        if (_fatal)
        {
            _logger.Warning($"the Kafka producer hit a fatal error ({KafkaClients.Describe(_firstError ?? new Error(ErrorCode.Local_Fatal))}); replacing it " +
                            $"({Outstanding} unacknowledged message(s) are dropped with it; the host sends them again from its checkpoint)");
            var old = _producer;
            SettleAll(new KafkaSinkException("the producer was replaced after a fatal error"));
            _creator?.Reset();
            await Task.Run(old.Dispose, CancellationToken.None).ConfigureAwait(false);
            _producer = Build();
            Interlocked.Exchange(ref _outstanding, 0);
            Interlocked.Exchange(ref _failures, 0);
            _firstError = null;
            _drainFirst = false;
            _fatal = false;
        }
        if (_drainFirst)
        {
            // The host is starting over after a timed-out flush: let the copies still queued go first, or each retry adds more.
            if (!await DrainAsync(cancellationToken).ConfigureAwait(false))
                throw new KafkaSinkException($"{Outstanding} message(s) from before still not acknowledged" +
                                             (RecentClientError() is { } err ? $" ({KafkaClients.Describe(err)})" : "") + "; holding");
            _drainFirst = false;
        }
    }

    /// <summary>Hands one message to the producer; false when its queue is full.</summary>
    private bool TryProduce(string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue, ReadOnlySpan<MessageHeader> headers)
    {
        Interlocked.Increment(ref _outstanding);
        var owed = _current;
        if (owed != null) Interlocked.Increment(ref owed.Left);
        int code;
        string? reason;
        bool fatal;
        try
        {
            code = _producer.Produce(topic, key, hasKey, value, hasValue, headers, owed?.Tag ?? 0, out reason, out fatal);
        }
        catch
        {
            Decrement();
            if (owed != null) Interlocked.Decrement(ref owed.Left);
            throw;
        }
        if (code == NativeProducer.NoError)
        {
            _produced++;
            return true;
        }
        Decrement();
        if (owed != null) Interlocked.Decrement(ref owed.Left);
        if (code == NativeProducer.QueueFull) return false;
        var error = new Error((ErrorCode)code, reason ?? NativeProducer.Describe(code), fatal);
        if (fatal) _fatal = true;
        throw new KafkaSinkException($"cannot produce to '{topic}': {KafkaClients.Describe(error)}");
    }

    private async ValueTask ProduceWhenRoomAsync(PendingMessage message, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_options.FlushTimeout.TotalMilliseconds;
        var delay = 1;
        do
        {
            if (Environment.TickCount64 >= deadline)
            {
                _drainFirst = true;
                throw new KafkaSinkException($"the producer queue stayed full for {_options.FlushTimeout.TotalSeconds:0.#} s" +
                                             (RecentClientError() is { } err ? $" ({KafkaClients.Describe(err)})" : "") + "; holding");
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        } while (!TryProduce(message.Topic, message.Key, message.Key != null, message.Value, message.Value != null, message.Headers));
    }

    /// <summary>Delivery reports (poll thread): <paramref name="count"/> messages of batch <paramref name="tag"/> acknowledged.</summary>
    private void OnAcknowledged(long tag, int count)
    {
        Interlocked.Add(ref _acknowledged, count);
        if (tag != 0 && Owed(tag) is { } owed) Reported(owed, count);
        if (Interlocked.Add(ref _outstanding, -count) == 0)
            lock (_zeroGate) _zero?.TrySetResult();
    }

    private OwedBatch? Owed(long tag)
    {
        lock (_owedGate) return _owed.GetValueOrDefault(tag);
    }

    /// <summary><paramref name="count"/> messages of a batch were acknowledged; the last completes it.</summary>
    private void Reported(OwedBatch owed, int count)
    {
        if (Interlocked.Add(ref owed.Left, -count) == 0) Settle(owed, null);
    }

    /// <summary>Completes (or fails) a batch's acknowledgement and forgets it.</summary>
    private void Settle(OwedBatch owed, Exception? error)
    {
        lock (_owedGate) _owed.Remove(owed.Tag);
        if (error is null) owed.Done.TrySetResult();
        else owed.Done.TrySetException(error);
    }

    /// <summary>Fails every batch still owed (a fatal producer error, or disposal): the host starts over from its checkpoint.</summary>
    private void SettleAll(Exception error)
    {
        OwedBatch[] all;
        lock (_owedGate)
        {
            all = [.. _owed.Values];
            _owed.Clear();
        }
        foreach (var owed in all) owed.Done.TrySetException(error);
    }

    /// <summary>A delivery report (poll thread) for a message that failed: its batch fails (or, written without one, the next flush reports it).</summary>
    private void OnFailed(long tag, int code, IntPtr rk)
    {
        var (fatalCode, fatalReason) = NativeProducer.FatalError(rk);
        var error = fatalCode != NativeProducer.NoError
            ? new Error((ErrorCode)fatalCode, fatalReason, true)
            : new Error((ErrorCode)code, NativeProducer.Describe(code), false);
        Interlocked.CompareExchange(ref _firstError, error, null);
        if (tag != 0 && Owed(tag) is { } owed)
        {
            _drainFirst = true; // the host starts over: the copies still queued go first
            Settle(owed, new KafkaSinkException($"a message was not delivered ({KafkaClients.Describe(error)})"));
        }
        else Interlocked.Increment(ref _failures);
        if (error.IsFatal) _fatal = true;
        Decrement();
    }

    private void Decrement()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
            lock (_zeroGate) _zero?.TrySetResult();
    }

    private void OnClientError(int code, string reason, bool fatal)
    {
        var error = new Error((ErrorCode)code, reason, fatal);
        _lastClientError = (error, Environment.TickCount64);
        if (error.IsFatal)
        {
            Interlocked.CompareExchange(ref _firstError, error, null);
            _fatal = true;
            _logger.Error($"Kafka producer: fatal error: {KafkaClients.Describe(error)}");
            SettleAll(new KafkaSinkException($"the producer failed: {KafkaClients.Describe(error)}"));
            lock (_zeroGate) _zero?.TrySetResult();
        }
        else if (_errorThrottle.Allow(error.Code.ToString()))
            _logger.Warning($"Kafka producer: {KafkaClients.Describe(error)}");
    }

    private Error? RecentClientError() =>
        _lastClientError is { } e && Environment.TickCount64 - e.At < 60_000 ? e.Error : null;

    /// <summary>One destination, the cluster: failing while a batch waits longer than <c>flush_timeout</c> or the producer is broken.</summary>
    public IReadOnlyList<SinkTargetHealth> Targets
    {
        get
        {
            long oldest = long.MaxValue;
            lock (_owedGate)
                foreach (var owed in _owed.Values)
                    oldest = Math.Min(oldest, owed.Created);
            var late = oldest != long.MaxValue && Environment.TickCount64 - oldest > _options.FlushTimeout.TotalMilliseconds;
            var failing = late || _fatal;
            string? error = null;
            if (failing)
                error = RecentClientError() is { } e ? KafkaClients.Describe(e)
                    : _fatal ? "the producer hit a fatal error"
                    : $"messages not acknowledged within {_options.FlushTimeout.TotalSeconds:0.#} s";
            DateTimeOffset? since = late ? DateTimeOffset.UtcNow.AddMilliseconds(oldest - Environment.TickCount64) : null;
            return [new SinkTargetHealth(_config["bootstrap.servers"], failing, error, Outstanding, since)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        _creator?.Dispose();
        if (_options.ExactlyOnce) await StopTransactionsAsync().ConfigureAwait(false);
        var producer = _producer;
        if (producer != null) await Task.Run(producer.Dispose).ConfigureAwait(false);
        SettleAll(new ObjectDisposedException(nameof(KafkaSink)));
    }

    /// <summary>A batch handed over through <see cref="SendAsync"/>: its tag, and its messages not yet reported (plus one while it is produced).</summary>
    private sealed class OwedBatch(long tag)
    {
        public readonly long Tag = tag;
        public readonly long Created = Environment.TickCount64;
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Left = 1;
    }
}

/// <summary>The Kafka sink could not deliver (yet); the host retries.</summary>
public sealed class KafkaSinkException : Exception
{
    public KafkaSinkException(string message, Exception? inner = null) : base(message, inner) { }
}
