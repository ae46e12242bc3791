using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// <c>exactly_once: true</c>: the sink's producer is the pipeline's transactional producer (the checkpoint store's
/// <c>transactional.id</c>); the events of many transactions and the checkpoint record of the last one are committed in
/// one Kafka transaction, every <c>commit_interval</c> at a transaction end. The open Kafka transaction always ends at
/// a transaction end of the binlog: events after a batch's last transaction end wait in the sink (the tail) until the
/// next batch, and a batch that ends inside a transaction commits what is owed first. A batch is acknowledged when the
/// transaction holding its checkpoint commits; any failure aborts the transaction and fails what is owed, so the host
/// starts over from the committed checkpoint.
/// </summary>
public sealed partial class KafkaSink
{
    private readonly SemaphoreSlim _txnGate = new(1, 1);
    private KafkaCheckpointBackend? _store;
    private Func<string?> _mayWrite = static () => null;
    private readonly ExactlyOnceCommits _commits = new();
    private readonly List<TaskCompletionSource> _awaitingCommit = [];
    private readonly List<ChangeEvent> _tail = [];
    private CheckpointState? _pendingCheckpoint;
    private bool _inTransaction, _initialised;
    private long _openedAt;
    private string? _broken; // fenced or fatally failed: this producer never commits again
    private Task? _committer;
    private CancellationTokenSource? _committerStop;

    public bool JoinCheckpoints(ICheckpointBackend backend, Func<string?> mayWrite)
    {
        if (!_options.ExactlyOnce) return false;
        if (backend is not KafkaCheckpointBackend store || store.Options.TransactionalId is not { Length: > 0 })
            throw new SinkConfigurationException("exactly_once", "needs the pipeline's checkpoint in Kafka (checkpoint: { type: kafka }) to commit it with the events");
        _txnGate.Wait();
        try
        {
            // A new run starts from the committed checkpoint: nothing of the last one is kept.
            AbortOpenTransaction(new KafkaSinkException("the pipeline starts over from its checkpoint"));
            _store = store;
            _mayWrite = mayWrite;
            store.CommittedBySink = _commits;
        }
        finally
        {
            _txnGate.Release();
        }
        if (_committer is null)
        {
            _committerStop = new CancellationTokenSource();
            _committer = Task.Run(() => CommitLoopAsync(_committerStop.Token));
        }
        return true;
    }

    public async ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CheckpointState? checkpoint, int eventsBeforeCheckpoint, CancellationToken cancellationToken)
    {
        await _txnGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_broken is { } why) throw new KafkaSinkException($"the transactional producer cannot commit any more: {why}");
            var store = _store ?? throw new KafkaSinkException("exactly_once: the sink was not given the pipeline's checkpoint store");
            if (!_initialised) await InitAsync(store).ConfigureAwait(false);
            if (checkpoint is null)
            {
                // The batch ends inside a transaction: the open Kafka transaction must stay committable, so what it owes commits first.
                if (_awaitingCommit.Count > 0) await CommitAsync(store).ConfigureAwait(false);
                await ProduceInTransactionAsync(batch, 0, batch.Count, cancellationToken).ConfigureAwait(false);
                return Task.CompletedTask; // nothing checkpointable: the transaction end that follows is acknowledged with its commit
            }
            await ProduceInTransactionAsync(batch, 0, eventsBeforeCheckpoint, cancellationToken).ConfigureAwait(false);
            for (var i = eventsBeforeCheckpoint; i < batch.Count; i++) _tail.Add(batch[i]);
            _pendingCheckpoint = checkpoint;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaitingCommit.Add(done);
            if (Environment.TickCount64 - _openedAt >= (long)_options.CommitInterval.TotalMilliseconds) await CommitAsync(store).ConfigureAwait(false);
            return done.Task;
        }
        catch (Exception e)
        {
            AbortOpenTransaction(e);
            throw;
        }
        finally
        {
            _txnGate.Release();
        }
    }

    /// <summary>Registers the transactional id (fencing, on a real broker, the producer of the pipeline's previous owner and aborting its open transaction).</summary>
    private async Task InitAsync(KafkaCheckpointBackend store)
    {
        _producer?.Dispose();
        _producer = null!;
        var config = new Dictionary<string, string>(_config, StringComparer.Ordinal) { ["transactional.id"] = store.Options.TransactionalId! };
        var producer = new NativeProducer(config, _logger, OnAcknowledged, OnFailed, OnClientError);
        try
        {
            await Task.Run(() => producer.InitTransactions(store.Options.Timeout)).ConfigureAwait(false);
        }
        catch
        {
            producer.Dispose();
            throw;
        }
        _producer = producer;
        _initialised = true;
    }

    /// <summary>Produces the tail and then <paramref name="batch"/>[from..to) into the open transaction (begun when none is).</summary>
    private async Task ProduceInTransactionAsync(IReadOnlyList<ChangeEvent> batch, int from, int to, CancellationToken ct)
    {
        if (_tail.Count == 0 && to <= from) return;
        if (!_inTransaction)
        {
            _producer.BeginTransaction();
            _inTransaction = true;
            _openedAt = Environment.TickCount64;
        }
        if (_tail.Count > 0)
        {
            var tail = _tail.ToArray();
            _tail.Clear();
            await WriteAsync(tail, ct).ConfigureAwait(false);
        }
        if (to > from) await WriteAsync(from == 0 && to == batch.Count ? batch : batch.Skip(from).Take(to - from).ToArray(), ct).ConfigureAwait(false);
    }

    /// <summary>Commits the open transaction with the checkpoint record of its last transaction end; acknowledges what it owed.</summary>
    private async Task CommitAsync(KafkaCheckpointBackend store)
    {
        if (_pendingCheckpoint is not { } checkpoint) return;
        if (_mayWrite() is { } refused) throw new KafkaSinkException($"not committed: {refused}");
        var pipeline = _pipeline;
        if (!_inTransaction)
        {
            _producer.BeginTransaction();
            _inTransaction = true;
        }
        var key = System.Text.Encoding.UTF8.GetBytes(pipeline);
        var value = KafkaCheckpointBackend.RecordValue(pipeline, checkpoint);
        var partitions = store.StatePartitions;
        Interlocked.Increment(ref _outstanding);
        var code = _producer.Produce(store.Options.Topic, key, true, value, true, [], 0, out var reason, out var fatal,
            partitions > 0 ? KafkaCheckpointBackend.PartitionOf(pipeline, partitions) : -1);
        if (code != NativeProducer.NoError)
        {
            Decrement();
            throw new KafkaSinkException($"cannot produce the checkpoint of '{pipeline}' to '{store.Options.Topic}': {reason ?? NativeProducer.Describe(code)}{(fatal ? " (fatal)" : "")}");
        }
        var timeout = store.Options.Timeout;
        await Task.Run(() =>
        {
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (true)
            {
                try
                {
                    _producer.CommitTransaction(timeout);
                    return;
                }
                catch (KafkaTransactionException e) when (e.Retriable && Environment.TickCount64 < deadline) { }
            }
        }).ConfigureAwait(false);
        _inTransaction = false;
        _pendingCheckpoint = null;
        _commits.Committed(checkpoint);
        foreach (var done in _awaitingCommit) done.TrySetResult();
        _awaitingCommit.Clear();
        ThrowIfFailed();
    }

    /// <summary>Aborts the open transaction (best effort), forgets the tail and fails what it owed with <paramref name="error"/>.</summary>
    private void AbortOpenTransaction(Exception error)
    {
        if (error is KafkaTransactionException { Fatal: true } t) _broken = t.Message;
        else if (error is KafkaSinkException && _fatal) _broken = "the producer hit a fatal error (fenced by a newer owner of the transactional id?)";
        if (_inTransaction && _broken is null)
        {
            try { _producer.AbortTransaction(_store?.Options.Timeout ?? TimeSpan.FromSeconds(30)); }
            catch (KafkaTransactionException e) when (e.Fatal) { _broken = e.Message; }
            catch (KafkaTransactionException) { /* the next begin reports it */ }
        }
        _inTransaction = false;
        _pendingCheckpoint = null;
        _tail.Clear();
        foreach (var done in _awaitingCommit) done.TrySetException(error);
        _awaitingCommit.Clear();
        Interlocked.Exchange(ref _failures, 0);
        _firstError = null;
    }

    /// <summary>Commits what is owed once <c>commit_interval</c> passed, when no batch comes to do it (the pipeline is idle or held).</summary>
    private async Task CommitLoopAsync(CancellationToken stop)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_options.CommitInterval.TotalMilliseconds / 2, 5, 1000));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, stop).ConfigureAwait(false);
                if (!await _txnGate.WaitAsync(0, stop).ConfigureAwait(false)) continue; // a batch is being produced: it commits when due
                try
                {
                    if (_awaitingCommit.Count > 0 && _store is { } store && Environment.TickCount64 - _openedAt >= (long)_options.CommitInterval.TotalMilliseconds)
                        await CommitAsync(store).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.Warning($"the Kafka transaction was not committed: {e.Message}; the pipeline starts over from its checkpoint");
                    AbortOpenTransaction(e);
                }
                finally
                {
                    _txnGate.Release();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Exactly once: commits what is owed; a transaction that ends inside a binlog transaction is aborted (it is read again).</summary>
    private async ValueTask FlushTransactionAsync(CancellationToken cancellationToken)
    {
        await _txnGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_store is { } store && _awaitingCommit.Count > 0) await CommitAsync(store).ConfigureAwait(false);
            if (_inTransaction) AbortOpenTransaction(new KafkaSinkException("flushed inside a transaction"));
            _tail.Clear();
        }
        catch (Exception e)
        {
            AbortOpenTransaction(e);
            throw;
        }
        finally
        {
            _txnGate.Release();
        }
    }

    /// <summary>Stops the commit loop and waits for a transactional call in progress before the producer is destroyed.</summary>
    private async ValueTask StopTransactionsAsync()
    {
        _committerStop?.Cancel();
        if (_committer is { } c) await c.ConfigureAwait(false);
        await _txnGate.WaitAsync().ConfigureAwait(false);
        if (_inTransaction && _broken is null)
            try { await Task.Run(() => _producer.AbortTransaction(TimeSpan.FromSeconds(5))).ConfigureAwait(false); }
            catch (KafkaTransactionException) { /* the next owner's init aborts it */ }
        _inTransaction = false;
        foreach (var done in _awaitingCommit) done.TrySetException(new ObjectDisposedException(nameof(KafkaSink)));
        _awaitingCommit.Clear();
    }
}
