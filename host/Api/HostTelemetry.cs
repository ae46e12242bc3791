using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Pipelines;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary>
/// The host's metrics and the pipeline state log. Owns this host's instruments on the <c>PluginHost</c> meter (observed
/// from <see cref="PipelineStatus"/> at scrape time, so they cost nothing between scrapes), listens to them and to the
/// data path's own (<see cref="PipelineMetrics"/>) with a <see cref="MeterListener"/>, and every 250 ms notes each
/// pipeline's state — logging one line per change — and every second its events/s and lag (kept for 15 minutes, for
/// the dashboard's charts). Transform reloads are counted by each pipeline as its transform reports them (<see cref="PipelineMetrics.TransformReloads"/>).
/// </summary>
internal sealed class HostTelemetry : IHostedService, IDisposable
{
    private const int HistoryLength = 900; // 15 minutes, one point a second
    private const int SparkLength = 60;

    private readonly PipelineControl _control;
    private readonly PluginManager? _plugins;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly YoungGenerationBudget? _gen0Budget;
    private readonly MeterListener _listener;
    private readonly MetricStore _store = new();
    private readonly SinkTaskMetrics _sinkTasks = new();
    private readonly object _scrape = new();
    private readonly Counter<long> _reloads;
    private readonly Dictionary<string, Watch> _watch = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private CancellationTokenSource? _stop;
    private Task? _loop;

    private sealed class Watch
    {
        public PipelineDisplayState? State;
        public PipelineStatus? Status;
        public long Out;
        public long SampledAt;
        public readonly Queue<HistoryPoint> Points = new();
        public double Rate;
    }

    internal HostTelemetry(PipelineControl control, ILoggerFactory loggers, PluginManager? plugins = null, YoungGenerationBudget? gen0Budget = null)
    {
        _gen0Budget = gen0Budget;
        _control = control;
        _plugins = plugins;
        _logger = loggers.CreateLogger("PluginHost.Pipelines");
        StartedAt = DateTimeOffset.UtcNow;
        _meter = new Meter(PipelineMetrics.MeterName, typeof(HostTelemetry).Assembly.GetName().Version?.ToString());
        _reloads = _meter.CreateCounter<long>("pluginhost.reloads", "{reload}", "Reloads by kind (config: POST /reload; plugin: a plugin folder loaded again) and result (ok, failed)");
        CreateObservables();

        _ = PipelineMetrics.Events; // make sure the data path's instruments exist before the listener starts
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter))
                    listener.EnableMeasurementEvents(instrument, _store.Register(instrument, false, null));
                else if (ReferenceEquals(instrument.Meter, PipelineMetrics.Meter))
                    // The data path's meter is shared by every host in the process (tests): keep this host's pipelines.
                    listener.EnableMeasurementEvents(instrument, _store.Register(instrument, true, _control.IsKnown));
                else if (PluginInstrumentOf(instrument) is { } plugin)
                    listener.EnableMeasurementEvents(instrument, plugin);
            },
            MeasurementsCompleted = (instrument, _) => _store.Remove(instrument),
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) =>
        {
            if (state is PluginInstrument plugin) TakePluginMeasurement(plugin, value, tags);
            else ((MetricStore.InstrumentData)state!).Record(value, tags);
        });
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) =>
        {
            if (state is PluginInstrument plugin) TakePluginMeasurement(plugin, value, tags);
            else ((MetricStore.InstrumentData)state!).Record(value, tags);
        });
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((MetricStore.InstrumentData)state!).Record(value, tags));
        _listener.Start();

        _control.Changed += () =>
        {
            try
            {
                Observe(sample: false); // a pause's line is written before its answer, not up to 250 ms later
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.PipelineWatchFailed(e.Message);
            }
        };
        _control.Reloaded += (kind, ok) => _reloads.Add(1, new KeyValuePair<string, object?>("kind", kind), new("result", ok ? "ok" : "failed"));
        if (_plugins != null) _plugins.StatusChanged += OnPluginStatus;
    }

    public DateTimeOffset StartedAt { get; }

    /// <summary>What a plugin's counter stands for in the pipeline's own counters.</summary>
    private enum SinkCounter
    {
        DeadLettered,
        Retries,
    }

    /// <summary>A plugin instrument the host takes in: into the pipeline's counters, into per-task figures, or both.</summary>
    private sealed record PluginInstrument(SinkCounter? Fold, SinkTaskMetrics.Kind? Task);

    private static PluginInstrument? PluginInstrumentOf(Instrument instrument)
    {
        var meter = instrument.Meter.Name;
        if (meter.StartsWith("System.", StringComparison.Ordinal) || meter.StartsWith("Microsoft.", StringComparison.Ordinal)) return null;
        var fold = PluginCounterKind(instrument);
        var task = SinkTaskMetrics.KindOf(instrument);
        return fold is null && task is null ? null : new PluginInstrument(fold, task);
    }

    private void TakePluginMeasurement(PluginInstrument plugin, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (plugin.Fold is { } kind) FoldPluginCount(kind, value, tags);
        if (plugin.Task is { } task) _sinkTasks.Record(task, value, tags, _control.IsKnown);
    }

    /// <summary>
    /// A plugin's own counter (any meter but the host's and the runtime's) that the pipeline's counters take in: one named
    /// <c>….dead_lettered</c> (events a sink dead-lettered) or <c>….retries</c> (retries a sink made itself), e.g. the
    /// webhook plugin's <c>webhook.events.dead_lettered</c> and <c>webhook.retries</c> on <c>PluginHost.Webhook</c>.
    /// Only measurements tagged with one of this host's pipelines count (see <see cref="FoldPluginCount"/>).
    /// </summary>
    private static SinkCounter? PluginCounterKind(Instrument instrument)
    {
        if (instrument is not (Counter<long> or Counter<int>)) return null;
        var meter = instrument.Meter.Name;
        if (meter.StartsWith("System.", StringComparison.Ordinal) || meter.StartsWith("Microsoft.", StringComparison.Ordinal)) return null;
        var last = instrument.Name[(instrument.Name.LastIndexOf('.') + 1)..];
        return last switch
        {
            "dead_lettered" => SinkCounter.DeadLettered,
            "retries" => SinkCounter.Retries,
            _ => null,
        };
    }

    /// <summary>Adds a plugin counter's measurement to the counters of the pipeline its <c>pipeline</c> tag names (when it is one of this host's).</summary>
    private void FoldPluginCount(SinkCounter kind, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (value <= 0) return;
        string? pipeline = null;
        foreach (var tag in tags)
            if (tag.Key == "pipeline")
                pipeline = tag.Value as string;
        if (pipeline is null || !_control.IsKnown(pipeline) || _control.Find(pipeline) is not { } s) return;
        if (kind == SinkCounter.DeadLettered) s.Status.AddSinkDeadLettered(value);
        else s.Status.AddSinkRetries(value);
    }

    /// <summary>Events per second the sink took over the last second.</summary>
    public double EventsPerSecond(string pipeline)
    {
        lock (_watch) return _watch.TryGetValue(pipeline, out var w) ? w.Rate : 0;
    }

    /// <summary>Events per second, one value a second, oldest first (up to a minute).</summary>
    public IReadOnlyList<double> History(string pipeline)
    {
        lock (_watch) return _watch.TryGetValue(pipeline, out var w) ? w.Points.Skip(Math.Max(0, w.Points.Count - SparkLength)).Select(p => p.EventsPerSecond).ToList() : [];
    }

    /// <summary>Events/s and lag of each pipeline, one point a second, oldest first (up to 15 minutes).</summary>
    public IReadOnlyList<PipelineHistory> RecentHistory()
    {
        lock (_watch) return _watch.Select(w => new PipelineHistory(w.Key, w.Value.Points.ToList())).ToList();
    }

    /// <summary>The whole exposition (observable instruments are observed now).</summary>
    public string Prometheus()
    {
        lock (_scrape)
        {
            ObserveAll();
            return _store.WritePrometheus();
        }
    }

    /// <summary>Per-task figures of sink plugins that report them (e.g. each webhook task), observed now.</summary>
    internal SinkTaskMetrics SinkTasks()
    {
        lock (_scrape) ObserveAll();
        return _sinkTasks;
    }

    private void ObserveAll() => _sinkTasks.Observe(() =>
    {
        _store.ClearObservable();
        _listener.RecordObservableInstruments();
    });

    /// <summary>Sum and count of the sink's write durations (for pikachu's average response time).</summary>
    public (double Sum, long Count) SinkWriteDurations()
    {
        if (_store.Find("pluginhost.sink.duration") is not { } h) return (0, 0);
        double sum = 0;
        long count = 0;
        foreach (var s in h.Series.Values)
        {
            if (!s.Labels.Any(l => l is { Key: "call", Value: "write" })) continue;
            lock (s)
            {
                sum += s.Sum;
                count += s.Count;
            }
        }
        return (sum, count);
    }

    /// <summary>Distinct tables (database.table) events were delivered for.</summary>
    public int TablesSeen() =>
        _store.Find("pluginhost.events") is { } c ? c.Series.Values.Select(s => s.Labels.FirstOrDefault(l => l.Key == "table").Value).Distinct().Count() : 0;

    private void CreateObservables()
    {
        IEnumerable<Measurement<long>> Each(Func<PipelineSnapshot, long> value) =>
            _control.List().Select(s => new Measurement<long>(value(s), new KeyValuePair<string, object?>("pipeline", s.Name)));
        IEnumerable<Measurement<double>> EachD(Func<PipelineSnapshot, double> value) =>
            _control.List().Select(s => new Measurement<double>(value(s), new KeyValuePair<string, object?>("pipeline", s.Name)));

        _meter.CreateObservableCounter("pluginhost.events.received", () => Each(s => s.Status.EventsIn), "{event}",
            "Rows read from the binlog that passed the pipeline's filter");
        _meter.CreateObservableCounter("pluginhost.events.filtered", () => Each(s => s.Status.EventsFiltered), "{event}",
            "Rows read from the binlog that the pipeline's filter left out");
        _meter.CreateObservableCounter("pluginhost.events.dropped", () => Each(s => s.Status.EventsDropped), "{event}",
            "Events the transform dropped (returned nothing)");
        _meter.CreateObservableCounter("pluginhost.events.skipped", () => Each(s => s.Status.EventsSkipped), "{event}",
            "Events skipped because the transform failed on them (on_error: skip)");
        _meter.CreateObservableCounter("pluginhost.events.dead_lettered", () => Each(s => s.Status.EventsDeadLettered), "{event}",
            "Events dead-lettered: by the transform (on_error: dead_letter) or by the sink (e.g. a webhook's dead_letter file)");
        _meter.CreateObservableCounter("pluginhost.errors", () => _control.List().SelectMany(s => new[]
            {
                new Measurement<long>(s.Status.SinkRetries, new KeyValuePair<string, object?>("pipeline", s.Name), new("kind", "sink")),
                new Measurement<long>(s.Status.EventsSkipped + s.Status.TransformDeadLettered, new KeyValuePair<string, object?>("pipeline", s.Name), new("kind", "transform")),
                new Measurement<long>(_failures.GetValueOrDefault(s.Name), new KeyValuePair<string, object?>("pipeline", s.Name), new("kind", "failed")),
            }), "{error}",
            "Errors by pipeline and kind: sink (a sink or checkpoint call failed and was retried), transform (the transform threw), failed (the pipeline stopped on an error)");
        _meter.CreateObservableCounter("pluginhost.sink.retries", () => Each(s => s.Status.SinkRetries), "{retry}",
            "Times the pipeline started over from its checkpoint because the sink (or checkpoint store) failed, plus retries the sink made itself (e.g. a webhook request repeated)");
        _meter.CreateObservableCounter("pluginhost.transactions", () => Each(s => s.Status.Transactions), "{transaction}",
            "Source transactions delivered and checkpointed");
        _meter.CreateObservableCounter("pluginhost.reconnects", () => Each(s => s.Status.Reconnects), "{reconnect}",
            "Reconnections to the source server");
        _meter.CreateObservableCounter("pluginhost.binlog.read", () => Each(s => s.Runner?.BinlogBytesRead ?? 0), "By",
            "Bytes of binlog received from the source server");
        _meter.CreateObservableGauge("pluginhost.lag", () => EachD(s => s.Status.LagSeconds), "s",
            "Seconds between now and the binlog time of the newest delivered change (0 when caught up)");
        _meter.CreateObservableGauge("pluginhost.queue.depth", () => Each(s => s.QueueDepth), "{chunk}",
            "Chunks (of up to 1024 events) waiting between the binlog reader and the sink");
        _meter.CreateObservableGauge("pluginhost.queue.bytes", () => Each(s => s.Runner is null ? 0 : s.Status.QueuedBytes), "By",
            "Estimated memory of the rows waiting between the binlog reader and the sink (bounded by queue_bytes)");
        _meter.CreateObservableGauge("pluginhost.in_flight.events", () => Each(s => s.Runner is null ? 0 : s.Status.InFlightEvents), "{event}",
            "Events handed to the sink and not yet acknowledged (bounded by in_flight_events)");
        _meter.CreateObservableGauge("pluginhost.sink.targets.failing", () => Each(s => s.Runner is null ? 0 : s.Status.SinkTargets?.Invoke()?.Count(t => t.Failing) ?? 0), "{target}",
            "Sink destinations (webhook tasks, the Kafka cluster) failing now; their events wait");
        _meter.CreateObservableGauge("pluginhost.schema.uncertain_tables", () => Each(s => s.Runner?.UncertainTables ?? 0), "{table}",
            "Tables whose columns the pipeline's schema history does not know for certain (after a DDL it could not read): their events carry positional names @1..@n");
        _meter.CreateObservableCounter("pluginhost.table.events", () => _control.List().SelectMany(s => s.Status.Tables.Snapshot().SelectMany(t => new[]
            {
                new Measurement<long>(t.In, new KeyValuePair<string, object?>("pipeline", s.Name), new("table", t.Table), new("direction", "in")),
                new Measurement<long>(t.Out, new KeyValuePair<string, object?>("pipeline", s.Name), new("table", t.Table), new("direction", "out")),
            })), "{event}",
            "Events per table (database.table) and direction: in (rows read that passed the filter), out (events handed to the sink, by their table after the transform); since the pipeline's run began");
        IEnumerable<Measurement<long>> EachTable(Func<SnapshotTableStatus, long> value) => _control.List()
            .SelectMany(s => s.Status.Snapshot?.Tables.Select(t => (s.Name, Table: t)) ?? [])
            .Select(x => new Measurement<long>(value(x.Table), new KeyValuePair<string, object?>("pipeline", x.Name), new("table", x.Table.Database + "." + x.Table.Table)));
        _meter.CreateObservableCounter("pluginhost.snapshot.rows", () => EachTable(t => t.Rows), "{row}",
            "Rows a snapshot read and handed on, per table (the snapshot in progress or the last one of the run)");
        _meter.CreateObservableGauge("pluginhost.snapshot.rows.estimated", () => EachTable(t => Math.Max(0, t.EstimatedRows)), "{row}",
            "The server's estimate of the rows of each table of the snapshot (information_schema.TABLES.TABLE_ROWS)");
        _meter.CreateObservableCounter("pluginhost.snapshot.chunks", () => EachTable(t => t.Chunks), "{chunk}",
            "Chunks a snapshot read and handed on, per table");
        _meter.CreateObservableGauge("pluginhost.snapshot.active", () => Each(s => s.Runner != null && s.Status.Snapshot is { Active: true } ? 1 : 0), null,
            "1 while the pipeline reads a snapshot");
        _meter.CreateObservableGauge("pluginhost.last_event.time", () => _control.List().Where(s => s.Status.LastEventTime != null)
                .Select(s => new Measurement<double>(s.Status.LastEventTime!.Value.ToUnixTimeSeconds(), new KeyValuePair<string, object?>("pipeline", s.Name))), "s",
            "Binlog time (Unix seconds) of the newest change delivered (saved with the checkpoint, so kept across restarts)");
        _meter.CreateObservableGauge("pluginhost.pipeline.state", () => _control.List().SelectMany(s => PipelineDisplayStates.All.Select(state =>
                new Measurement<int>(s.State == state ? 1 : 0, new KeyValuePair<string, object?>("pipeline", s.Name), new("state", state.ToText())))), null,
            "1 for the state each pipeline is in, 0 for the others");
        _meter.CreateObservableGauge("pluginhost.pipelines", () => new Measurement<int>(_control.Entries().Count), "{pipeline}",
            "Pipelines defined (running or not)");
        _meter.CreateObservableGauge("pluginhost.uptime", () => new Measurement<double>((DateTimeOffset.UtcNow - StartedAt).TotalSeconds), "s",
            "Seconds since the host started");
        _meter.CreateObservableGauge("pluginhost.memory.managed", () => new Measurement<long>(GC.GetTotalMemory(false)), "By",
            "Bytes of managed memory in use");
        _meter.CreateObservableCounter("pluginhost.gc.gen0_requested", () => new Measurement<long>(_gen0Budget?.Induced ?? 0), "{collection}",
            "Youngest-generation collections the host asked for to keep memory.gen0_budget");
        _meter.CreateObservableCounter("pluginhost.gc.collections", () => new[]
            {
                new Measurement<long>(GC.CollectionCount(0), new KeyValuePair<string, object?>("generation", "0")),
                new Measurement<long>(GC.CollectionCount(1), new KeyValuePair<string, object?>("generation", "1")),
                new Measurement<long>(GC.CollectionCount(2), new KeyValuePair<string, object?>("generation", "2")),
            }, "{collection}", "Garbage collections of each generation (a collection of generation 1 or 2 also counts for the younger ones)");
        _meter.CreateObservableCounter("pluginhost.gc.pause", () => new Measurement<double>(GC.GetTotalPauseDuration().TotalSeconds), "s",
            "Time the runtime paused the process's threads for garbage collections");
    }

    private void OnPluginStatus(PluginStatus status)
    {
        if (status.State == PluginState.Removed) return;
        var ok = status.State == PluginState.Loaded && status.Error is null;
        _reloads.Add(1, new KeyValuePair<string, object?>("kind", "plugin"), new("result", ok ? "ok" : "failed"));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stop = new CancellationTokenSource();
        Observe(sample: false);
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null || _loop is null) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        Observe(sample: false); // the last state changes (stopped)
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        var tick = 0;
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            try
            {
                Observe(sample: ++tick % 4 == 0);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.PipelineWatchFailed(e.Message);
            }
        }
    }

    /// <summary>Logs state changes (one line each) and counts failures; with <paramref name="sample"/>, events/s and transform reloads too.</summary>
    private void Observe(bool sample)
    {
        lock (_observing) ObserveLocked(sample);
    }

    private readonly object _observing = new();

    private void ObserveLocked(bool sample)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in _control.List())
        {
            seen.Add(s.Name);
            Watch w;
            lock (_watch)
            {
                if (!_watch.TryGetValue(s.Name, out w!))
                {
                    w = new Watch { Status = s.Status, Out = s.Status.EventsOut, SampledAt = now };
                    _watch[s.Name] = w;
                }
            }
            var state = s.State;
            if (state != w.State)
            {
                var secrets = Secrets.ValuesOf(s.Entry.Definition);
                var failed = state == PipelineDisplayState.Failed;
                var reason = state is PipelineDisplayState.Failed or PipelineDisplayState.Retrying or PipelineDisplayState.Reconnecting && s.Status.LastError is { } error
                    ? ": " + Secrets.Scrub(error, secrets) : "";
                var (from, text) = (w.State?.ToText(), state.ToText());
                var level = failed ? LogLevel.Error : LogLevel.Information;
                if (from is null) _logger.PipelineState(level, s.Name, text, reason);
                else _logger.PipelineStateChange(level, s.Name, from, text, reason);
                if (failed) _failures.AddOrUpdate(s.Name, 1, (_, n) => n + 1);
                w.State = state;
            }
            if (!sample) continue;
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(w.SampledAt, now).TotalSeconds;
            var current = s.Status.EventsOut;
            var delta = ReferenceEquals(w.Status, s.Status) ? current - w.Out : current; // a new run counts from 0
            var rate = elapsed > 0 && s.Runner != null ? Math.Max(0, delta) / elapsed : 0; // paused, stopped: 0
            lock (_watch)
            {
                w.Rate = rate;
                w.Points.Enqueue(new HistoryPoint(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Math.Round(rate, 2), Math.Round(s.Runner is null ? 0 : s.Status.LagSeconds, 1)));
                while (w.Points.Count > HistoryLength) w.Points.Dequeue();
            }
            (w.Status, w.Out, w.SampledAt) = (s.Status, current, now);
        }
        lock (_watch)
            foreach (var gone in _watch.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                _logger.PipelineRemoved(gone, _watch[gone].State);
                _watch.Remove(gone);
            }
    }

    public void Dispose()
    {
        if (_plugins != null) _plugins.StatusChanged -= OnPluginStatus;
        _listener.Dispose();
        _meter.Dispose();
        _stop?.Dispose();
    }
}
