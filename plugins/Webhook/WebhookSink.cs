using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using PluginHost.Sdk;
using RestSharp;

namespace PluginHost.Plugins.Webhook;

/// <summary>
/// Sends events to HTTP receivers. Each event is routed to its tasks (by table and type); every task has its own
/// <c>worker_count</c> lanes and its own failure state (<see cref="WebhookTarget"/>), and an event is queued on the lane
/// of its row (<see cref="RowLanes"/>: table + primary key; the table alone when it has no key) in each of its tasks.
/// A lane sends strictly one request after another, so the events of one row arrive at a task in commit order, also
/// while a request is retried; a task whose receiver fails holds back only its own lanes. An update that changes the
/// primary key waits on its new lane until its old lane delivered what preceded it (<see cref="KeyChange"/>).
/// Failures are retried with exponential backoff and jitter (Retry-After honoured), and a task's first success wakes
/// its lanes from their backoff; when retries run out, or a failure is permanent, the events go to the dead-letter
/// file — or, without one, are held and retried for ever. <see cref="SendAsync"/> acknowledges each batch once every
/// delivery of it got a 2xx or was dead-lettered; <see cref="FlushAsync"/> waits for everything accepted so far.
/// </summary>
public sealed class WebhookSink : IAcknowledgingSink, ISinkHealth
{
    private static readonly ContentType JsonContent = ContentType.Json;
    private readonly WebhookRouter _router;
    private readonly WebhookTarget[] _targets;
    private readonly RestClient _client;
    private readonly StandardWebhookSigner? _signer;
    private readonly CancellationTokenSource _stop = new();

    // Acknowledgements owed, and the flush waiter; under _gate.
    private readonly object _gate = new();
    private readonly HashSet<BatchAcknowledgement> _owed = [];
    private TaskCompletionSource? _idle;
    private volatile Exception? _fault;
    private long _pending;
    private int _holding;
    private int _disposed;

    internal WebhookSink(WebhookSettings settings, IPluginLogger logger, string pipeline)
    {
        Settings = settings;
        Logger = logger;
        var o = settings.Options;
        Stats = new WebhookStats(pipeline, settings.Routes, o.WorkerCount);
        _router = new WebhookRouter(settings.Routes);
        Policy = new RetryPolicy(o.MaxRetries, o.RetryBaseDelay, o.RetryMaxDelay);
        _signer = settings.SigningKey is { } key ? new StandardWebhookSigner(key) : null;
        DeadLetter = settings.DeadLetterPath is { } dl ? new WebhookDeadLetter(dl) : null;
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
        _targets = new WebhookTarget[settings.Routes.Length];
        for (var i = 0; i < _targets.Length; i++) _targets[i] = new WebhookTarget(this, settings.Routes[i], o.WorkerCount);
    }

    internal WebhookSettings Settings { get; }
    internal IPluginLogger Logger { get; }
    internal RetryPolicy Policy { get; }
    internal WebhookDeadLetter? DeadLetter { get; }
    internal CancellationToken Stopping => _stop.Token;

    /// <summary>Counters (also published on the <c>PluginHost.Webhook</c> meter).</summary>
    public WebhookStats Stats { get; }

    /// <summary>Deliveries accepted and not yet delivered or dead-lettered (one per event and task).</summary>
    public long Pending => Volatile.Read(ref _pending);

    /// <summary>Lanes currently held on a failure they may not give up on (no dead-letter file).</summary>
    public int HoldingLanes => Volatile.Read(ref _holding);

    /// <summary>The final URL of each task, in order.</summary>
    public IReadOnlyList<Uri> Urls => Settings.Routes.Select(r => r.Url).ToList();

    /// <summary>The dead-letter file (null when dead-lettering is off).</summary>
    public string? DeadLetterPath => DeadLetter?.FilePath;

    /// <summary>One entry per task: failing or not, its last error, the deliveries it owes.</summary>
    public IReadOnlyList<SinkTargetHealth> Targets
    {
        get
        {
            var list = new SinkTargetHealth[_targets.Length];
            for (var i = 0; i < list.Length; i++) list[i] = _targets[i].Health();
            return list;
        }
    }

    public ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        Queue(batch, null);
        return ValueTask.CompletedTask;
    }

    public ValueTask<Task> SendAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        var ack = new BatchAcknowledgement(1); // (one extra, dropped once the batch is queued: no completion half-way)
        lock (_gate) _owed.Add(ack);
        try
        {
            Queue(batch, ack);
        }
        finally
        {
            Acknowledge(ack);
        }
        return ValueTask.FromResult(ack.Task);
    }

    /// <summary>Routes each event to its tasks and queues it on its row's lane in each; never waits.</summary>
    private void Queue(IReadOnlyList<ChangeEvent> batch, BatchAcknowledgement? ack)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_fault is { } broken) throw Broken(broken);
        var unrouted = 0;
        var lanes = Settings.Options.WorkerCount;
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
            if (lanes > 1)
            {
                index = RowLanes.Of(e, lanes);
                keyChange = RowLanes.MovesLane(e, index, lanes, out oldIndex);
            }
            ack?.Add(routes.Length);
            Interlocked.Add(ref _pending, routes.Length);
            foreach (var route in routes)
            {
                var target = _targets[route.Index];
                if (keyChange)
                {
                    var change = new KeyChange();
                    target.Lanes[oldIndex].Enqueue(new LaneItem(null, null, change));
                    target.Lanes[index].Enqueue(new LaneItem(e, ack, change));
                }
                else target.Lanes[index].Enqueue(new LaneItem(e, ack, null));
            }
        }
        if (unrouted > 0) Stats.AddUnrouted(unrouted);
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

    /// <summary>A delivery is done (2xx or dead-lettered): counts it for its batch and for <see cref="FlushAsync"/>.</summary>
    internal void Done(BatchAcknowledgement? ack)
    {
        if (ack != null) Acknowledge(ack);
        if (Interlocked.Decrement(ref _pending) > 0) return;
        lock (_gate)
        {
            if (Volatile.Read(ref _pending) > 0) return;
            _idle?.TrySetResult();
            _idle = null;
        }
    }

    private void Acknowledge(BatchAcknowledgement ack)
    {
        if (ack.Done())
            lock (_gate) _owed.Remove(ack);
    }

    internal void Holding(int delta) => Interlocked.Add(ref _holding, delta);

    /// <summary>A lane hit a bug: the sink is broken, every owed acknowledgement and any flush fail (the host starts over).</summary>
    internal void Break(Exception e, string message)
    {
        Logger.Error(message, e);
        BatchAcknowledgement[] owed;
        lock (_gate)
        {
            _fault = e;
            _idle?.TrySetException(e);
            _idle = null;
            owed = [.. _owed];
            _owed.Clear();
        }
        foreach (var ack in owed) ack.Fail(Broken(e));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Stats.Dispose(); // its tasks and workers are no longer reported as running
        _stop.Cancel();
        BatchAcknowledgement[] owed;
        lock (_gate)
        {
            _idle?.TrySetException(new ObjectDisposedException(nameof(WebhookSink)));
            _idle = null;
            owed = [.. _owed];
            _owed.Clear();
        }
        foreach (var ack in owed) ack.Cancel();
        foreach (var target in _targets)
        foreach (var lane in target.Lanes)
            lane.Complete();
        try
        {
            await Task.WhenAll(_targets.SelectMany(t => t.Lanes).Select(l => l.Loop)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        var left = Pending;
        if (left > 0) Logger.Info($"webhook sink closed with {left} undelivered event(s); they are read again from the checkpoint");
        _client.Dispose();
        DeadLetter?.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// The <c>webhook-id</c>: the same for every attempt and for a redelivery after a restart (it hashes the task, the
    /// events' transaction ids and indexes, and the body), so receivers can drop duplicates.
    /// </summary>
    internal static string MessageId(WebhookRoute route, IReadOnlyList<ChangeEvent> events, byte[] body)
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

    internal async Task<AttemptResult> SendAsync(WebhookRoute route, byte[] body, string id, CancellationToken stop)
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
            Stats.AddRequest(route, false, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
            Stats.AddRequest(route, result.Success, ms);
            return result;
        }
        Stats.AddRequest(route, false, ms);
        var error = response.ResponseStatus == ResponseStatus.TimedOut
            ? $"timed out after {Settings.Options.Timeout.TotalSeconds:0.###} s"
            : RetryPolicy.Describe(response.ErrorException, response.ErrorMessage);
        return new AttemptResult(false, false, 0, error, null);
    }

    private static string Shorten(string s)
    {
        s = s.ReplaceLineEndings(" ").Trim();
        return s.Length > 200 ? s[..200] + "…" : s;
    }
}
