using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using PluginHost.Sdk;
using RestSharp;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Sends events to HTTP receivers. Each event is routed to its tasks (by table and type), then queued on one of
/// <c>worker_count</c> lanes chosen by its row (<see cref="RowLanes"/>: table + primary key; the table alone when it
/// has no key): a lane sends its events strictly one request after another, so the events of one row arrive in commit
/// order, also while a request is being retried. An update that changes the primary key is an ordering barrier: it is
/// queued only once everything before it for the old key was delivered, and later events on the old key's lane wait
/// until it was delivered (key changes are rare; this costs a round trip each). Failures
/// are retried with exponential backoff and jitter (Retry-After honoured); when retries run out, or a failure is
/// permanent, the events go to the dead-letter file — or, without one, are held and retried for ever.
/// <see cref="FlushAsync"/> returns once every event written so far got a 2xx or was dead-lettered.
/// </summary>
public sealed class WebhookSink : ISink
{
    private static readonly ContentType JsonContent = ContentType.Json;
    private readonly WebhookSettings _settings;
    private readonly IPluginLogger _logger;
    private readonly WebhookRouter _router;
    private readonly Lane[] _lanes;
    private readonly RestClient _client;
    private readonly RetryPolicy _policy;
    private readonly StandardWebhookSigner? _signer;
    private readonly WebhookDeadLetter? _deadLetter;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private TaskCompletionSource? _idle;
    private readonly TaskCompletionSource _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<OrderBarrier> _barriers = []; // key changes not yet delivered (WriteAsync only)
    private volatile Exception? _fault;
    private long _pending;
    private int _holding;
    private int _disposed;

    internal WebhookSink(WebhookSettings settings, IPluginLogger logger, string pipeline)
    {
        _settings = settings;
        _logger = logger;
        var o = settings.Options;
        Stats = new WebhookStats(pipeline);
        _router = new WebhookRouter(settings.Routes);
        _policy = new RetryPolicy(o.MaxRetries, o.RetryBaseDelay, o.RetryMaxDelay);
        _signer = settings.SigningKey is { } key ? new StandardWebhookSigner(key) : null;
        _deadLetter = settings.DeadLetterPath is { } dl ? new WebhookDeadLetter(dl) : null;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = o.MaxConnections,
            ConnectTimeout = o.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _client = new RestClient(http, new RestClientOptions
        {
            Timeout = o.Timeout,
            ThrowOnAnyError = false,
            FollowRedirects = false,
            UserAgent = o.UserAgent,
        }, disposeHttpClient: true);
        var capacity = Math.Max(1024, o.BatchSize * 4);
        _lanes = new Lane[o.WorkerCount];
        for (var i = 0; i < _lanes.Length; i++) _lanes[i] = new Lane(this, i, capacity);
    }

    /// <summary>Counters (also published on the <c>PluginHost.Webhook</c> meter).</summary>
    public WebhookStats Stats { get; }

    /// <summary>Events accepted and not yet delivered or dead-lettered (per task).</summary>
    public long Pending => Volatile.Read(ref _pending);

    /// <summary>Lanes currently held on a failure they may not give up on (no dead-letter file).</summary>
    public int HoldingLanes => Volatile.Read(ref _holding);

    /// <summary>The final URL of each task, in order.</summary>
    public IReadOnlyList<Uri> Urls => _settings.Routes.Select(r => r.Url).ToList();

    /// <summary>The dead-letter file (null when dead-lettering is off).</summary>
    public string? DeadLetterPath => _deadLetter?.FilePath;

    public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_fault is { } broken) throw Broken(broken);
        var unrouted = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var routes = _router.Find(e);
            if (routes.Length == 0)
            {
                unrouted++;
                continue;
            }
            int index = 0, oldIndex = 0;
            var keyChange = false;
            if (_lanes.Length > 1)
            {
                index = RowLanes.Of(e, _lanes.Length);
                keyChange = RowLanes.MovesLane(e, index, _lanes.Length, out oldIndex);
            }
            if (_barriers.Count > 0) await PassBarriersAsync(index, cancellationToken).ConfigureAwait(false);
            OrderBarrier? barrier = null;
            if (keyChange)
            {
                // Everything pending for the old key is delivered first; anything pending for the new key is ahead
                // of it on its own lane. Later events of the old key's lane wait for it (PassBarriersAsync).
                await PassBarriersAsync(oldIndex, cancellationToken).ConfigureAwait(false);
                await WaitOrderedAsync(_lanes[oldIndex].DrainedAsync(), cancellationToken).ConfigureAwait(false);
                barrier = new OrderBarrier(oldIndex, routes.Length);
            }
            var lane = _lanes[index];
            foreach (var route in routes)
            {
                Interlocked.Increment(ref _pending);
                var d = new Delivery(e, route, barrier);
                if (!lane.Queue.Writer.TryWrite(d))
                {
                    try
                    {
                        await lane.Queue.Writer.WriteAsync(d, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        Done(1);
                        throw;
                    }
                }
                lane.Enqueued();
            }
            if (barrier != null) _barriers.Add(barrier);
        }
        if (unrouted > 0) Stats.AddUnrouted(unrouted);
    }

    /// <summary>Waits for the key changes whose old key's lane is <paramref name="lane"/> to be delivered.</summary>
    private async ValueTask PassBarriersAsync(int lane, CancellationToken cancellationToken)
    {
        _barriers.RemoveAll(b => b.Task.IsCompleted);
        for (var i = 0; i < _barriers.Count; i++)
        {
            if (_barriers[i].BlockedLane != lane) continue;
            await WaitOrderedAsync(_barriers[i].Task, cancellationToken).ConfigureAwait(false);
        }
        _barriers.RemoveAll(b => b.Task.IsCompleted);
    }

    /// <summary>Waits for an ordering condition; gives up when the sink breaks or is disposed.</summary>
    private async ValueTask WaitOrderedAsync(Task task, CancellationToken cancellationToken)
    {
        if (!task.IsCompleted) await Task.WhenAny(task, _broken.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_fault is { } fault) throw Broken(fault);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
    }

    private static InvalidOperationException Broken(Exception fault) => new($"webhook sink broken: {fault.Message}", fault);

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_fault is { } fault) throw Broken(fault);
                if (Volatile.Read(ref _pending) == 0) return;
                _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _idle.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Done(int count)
    {
        if (Interlocked.Add(ref _pending, -count) != 0) return;
        lock (_gate)
        {
            if (Volatile.Read(ref _pending) != 0) return;
            _idle?.TrySetResult();
            _idle = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _broken.TrySetResult();
        lock (_gate)
        {
            _idle?.TrySetException(new ObjectDisposedException(nameof(WebhookSink)));
            _idle = null;
        }
        foreach (var lane in _lanes) lane.Queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_lanes.Select(l => l.Loop)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        var left = Pending;
        if (left > 0) _logger.Info($"webhook sink closed with {left} undelivered event(s); they are read again from the checkpoint");
        _client.Dispose();
        _deadLetter?.Dispose();
        _stop.Dispose();
    }

    private readonly record struct Delivery(ChangeEvent Event, WebhookRoute Route, OrderBarrier? Barrier);

    /// <summary>A key-changing update on its way: done once every task's delivery of it is (2xx or dead-lettered).</summary>
    private sealed class OrderBarrier(int blockedLane, int deliveries)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left = deliveries;

        /// <summary>The lane of the old key: its later events wait for this one.</summary>
        public int BlockedLane { get; } = blockedLane;

        public Task Task => _done.Task;

        public void Delivered()
        {
            if (Interlocked.Decrement(ref _left) == 0) _done.TrySetResult();
        }
    }

    /// <summary>One ordered delivery queue and the loop that drains it.</summary>
    private sealed class Lane
    {
        private readonly WebhookSink _sink;
        private readonly int _index;
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);

        public Lane(WebhookSink sink, int index, int capacity)
        {
            _sink = sink;
            _index = index;
            Queue = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(capacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
                AllowSynchronousContinuations = false,
            });
            Loop = Task.Run(RunAsync);
        }

        public Channel<Delivery> Queue { get; }
        public Task Loop { get; }

        private readonly object _drainGate = new();
        private long _enqueued; // written by WriteAsync only
        private long _completed;
        private long _drainTarget;
        private TaskCompletionSource? _drained;

        /// <summary>Counts a delivery queued on this lane (called by the single writer).</summary>
        public void Enqueued() => Volatile.Write(ref _enqueued, _enqueued + 1);

        /// <summary>Completes once every delivery queued so far is done (2xx or dead-lettered).</summary>
        public Task DrainedAsync()
        {
            var target = Volatile.Read(ref _enqueued);
            lock (_drainGate)
            {
                if (_completed >= target) return Task.CompletedTask;
                _drainTarget = target;
                return (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }

        private void Finished(Delivery d)
        {
            _sink.Done(1);
            d.Barrier?.Delivered();
            lock (_drainGate)
            {
                _completed++;
                if (_drained != null && _completed >= _drainTarget)
                {
                    _drained.TrySetResult();
                    _drained = null;
                }
            }
        }

        private async Task RunAsync()
        {
            var stop = _sink._stop.Token;
            var batchSize = _sink._settings.Options.BatchSize;
            var drain = batchSize == 1 ? 256 : batchSize * 4;
            var items = new List<Delivery>(drain);
            var reader = Queue.Reader;
            try
            {
                while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
                {
                    items.Clear();
                    while (items.Count < drain && reader.TryRead(out var d)) items.Add(d);
                    if (batchSize == 1)
                    {
                        foreach (var d in items)
                        {
                            await DeliverAsync(d.Route, [d.Event], stop).ConfigureAwait(false);
                            Finished(d);
                        }
                        continue;
                    }
                    // Batches go to one URL: group by task, keeping each task's (hence each row's) order.
                    foreach (var group in items.GroupBy(d => d.Route))
                    foreach (var chunk in group.Chunk(batchSize))
                    {
                        await DeliverAsync(group.Key, chunk.Select(d => d.Event).ToArray(), stop).ConfigureAwait(false);
                        foreach (var d in chunk) Finished(d);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (ObjectDisposedException) when (stop.IsCancellationRequested) { }
            catch (Exception e)
            {
                // A bug, not a delivery failure (those are retried above): make it visible instead of hanging a flush.
                _sink._logger.Error($"webhook lane {_index} stopped: {e.Message}", e);
                lock (_sink._gate)
                {
                    _sink._fault = e;
                    _sink._idle?.TrySetException(e);
                    _sink._idle = null;
                }
                _sink._broken.TrySetResult();
            }
        }

        /// <summary>Sends one request until it gets a 2xx or is dead-lettered; retries hold the lane (row order).</summary>
        private async Task DeliverAsync(WebhookRoute route, IReadOnlyList<ChangeEvent> events, CancellationToken stop)
        {
            var sink = _sink;
            var settings = sink._settings;
            byte[]? body = null;
            string? id = null;
            var holding = false;
            var warned = false;
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    AttemptResult result;
                    if (body is null)
                    {
                        try
                        {
                            _buffer.ResetWrittenCount();
                            WebhookPayload.Write(_buffer, events, settings.Format, asArray: settings.Options.BatchSize > 1);
                            body = _buffer.WrittenSpan.ToArray();
                            id = MessageId(route, events, body);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            body = null;
                            result = new AttemptResult(false, true, 0, "cannot serialise the event: " + e.Message, null);
                            goto failed;
                        }
                    }
                    result = await sink.SendAsync(route, body, id!, stop).ConfigureAwait(false);
                    if (result.Success)
                    {
                        sink.Stats.AddDelivered(events.Count);
                        if (warned)
                            sink._logger.Info($"webhook {route.DisplayId}: delivered to {route.DisplayUrl} after {attempt} attempts");
                        return;
                    }
                    failed:
                    var exhausted = sink._policy.Exhausted(attempt, result.Permanent);
                    if (exhausted && sink._deadLetter is { } dlq)
                    {
                        try
                        {
                            dlq.Write(events, route, result.Status, result.Error, attempt);
                            sink.Stats.AddDeadLettered(events.Count);
                            sink._logger.Warning($"webhook {route.DisplayId}: {events.Count} event(s) dead-lettered to {dlq.FilePath} after {attempt} attempt(s): {result.Error}");
                            return;
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            sink._logger.Error($"webhook {route.DisplayId}: cannot write the dead-letter file {dlq.FilePath}: {e.Message}; retrying", e);
                        }
                    }
                    if (exhausted && !holding)
                    {
                        holding = true;
                        Interlocked.Increment(ref sink._holding);
                        if (sink._deadLetter is null)
                            sink._logger.Error($"webhook {route.DisplayId}: {(result.Permanent ? "permanent failure" : $"{attempt} attempts failed")} ({result.Error}) " +
                                               $"and no dead_letter file is set: holding {events.Count} event(s) on lane {_index} and retrying until {route.DisplayUrl} accepts them");
                    }
                    var delay = sink._policy.Delay(attempt, result.RetryAfter);
                    if (route.ShouldLog(out var suppressed))
                    {
                        warned = true;
                        sink._logger.Warning($"webhook {route.DisplayId}: {route.DisplayUrl} failed (attempt {attempt}): {result.Error}; retrying in {delay.TotalMilliseconds:0} ms" +
                                             (suppressed > 0 ? $" ({suppressed} more failure(s) of this task since the last message)" : ""));
                    }
                    sink.Stats.AddRetry();
                    await Task.Delay(delay, stop).ConfigureAwait(false);
                }
            }
            finally
            {
                if (holding) Interlocked.Decrement(ref sink._holding);
            }
        }
    }

    /// <summary>
    /// The <c>webhook-id</c>: the same for every attempt and for a redelivery after a restart (it hashes the task, the
    /// events' transaction ids and indexes, and the body), so receivers can drop duplicates.
    /// </summary>
    private static string MessageId(WebhookRoute route, IReadOnlyList<ChangeEvent> events, byte[] body)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Encoding.UTF8.GetBytes(route.Id));
        Span<byte> num = stackalloc byte[16];
        foreach (var e in events)
        {
            if (e.TransactionId is null) continue;
            h.AppendData("\n"u8);
            h.AppendData(Encoding.UTF8.GetBytes(e.TransactionId));
            e.IndexInTransaction.TryFormat(num, out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
            h.AppendData("#"u8);
            h.AppendData(num[..n]);
        }
        h.AppendData("\n"u8);
        h.AppendData(body);
        Span<byte> hash = stackalloc byte[32];
        h.GetHashAndReset(hash);
        return "msg_" + Convert.ToHexStringLower(hash[..16]);
    }

    private async Task<AttemptResult> SendAsync(WebhookRoute route, byte[] body, string id, CancellationToken stop)
    {
        var request = new RestRequest(route.Url, Method.Post);
        request.AddBody(body, JsonContent);
        foreach (var (name, value) in route.Headers) request.AddOrUpdateHeader(name, value);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        request.AddHeader("webhook-id", id);
        request.AddHeader("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_signer != null) request.AddHeader("webhook-signature", _signer.Sign(id, timestamp, body));
        var started = Stopwatch.GetTimestamp();
        RestResponse response;
        try
        {
            response = await _client.ExecuteAsync(request, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            Stats.AddRequest(false, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new AttemptResult(false, false, 0, RetryPolicy.Describe(e, null), null);
        }
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        stop.ThrowIfCancellationRequested();
        if (response.ResponseStatus == ResponseStatus.Completed || response.StatusCode != 0)
        {
            string? retryAfter = null;
            if (response.Headers != null)
                foreach (var hdr in response.Headers)
                    if (string.Equals(hdr.Name, "Retry-After", StringComparison.OrdinalIgnoreCase))
                    {
                        retryAfter = hdr.Value?.ToString();
                        break;
                    }
            var result = RetryPolicy.Classify((int)response.StatusCode, response.StatusDescription ?? "", retryAfter, DateTimeOffset.UtcNow);
            if (!result.Success && !string.IsNullOrEmpty(response.Content))
                result = result with { Error = result.Error + ": " + Shorten(response.Content) };
            Stats.AddRequest(result.Success, ms);
            return result;
        }
        Stats.AddRequest(false, ms);
        var error = response.ResponseStatus == ResponseStatus.TimedOut
            ? $"timed out after {_settings.Options.Timeout.TotalSeconds:0.###} s"
            : RetryPolicy.Describe(response.ErrorException, response.ErrorMessage);
        return new AttemptResult(false, false, 0, error, null);
    }

    private static string Shorten(string s)
    {
        s = s.ReplaceLineEndings(" ").Trim();
        return s.Length > 200 ? s[..200] + "…" : s;
    }
}
