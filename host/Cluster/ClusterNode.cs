using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Cluster;

/// <summary>
/// This host as a node of a cluster (docs/cluster.md): joins the group through the membership a plugin provides, runs
/// the pipelines placed in the slots the group assigns it, stops them when slots are revoked or lost, and stops them
/// itself when it cannot confirm its membership for <see cref="ClusterOptions.SelfFenceAfter"/>, before the group may
/// give them to another node. The checkpoint stores' transactions fence what it still writes after that.
/// </summary>
internal sealed partial class ClusterNode : IHostedService, IClusterListener, IDisposable
{
    private readonly ClusterOptions _options;
    private readonly PipelineControl _control;
    private readonly SinkCatalog _sinks;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly HashSet<int> _slots = [];
    private readonly HashSet<int> _lost = [];
    private IClusterMembership? _membership;
    private Timer? _watchdog;
    private DateTimeOffset _lastConfirmed = DateTimeOffset.UtcNow;
    private long _lastTick = System.Diagnostics.Stopwatch.GetTimestamp(); // the watchdog's last run: a gap means the process was paused
    private bool _everConfirmed;
    private DateTimeOffset? _lastRebalance;
    private long _rebalances;
    private string? _fenced;
    private string? _trouble;
    private bool _rejoinAsked;
    private Dictionary<string, int> _placement = new(StringComparer.Ordinal);
    private string _names = "";

    public ClusterNode(ClusterOptions options, PipelineControl control, SinkCatalog sinks, CheckpointStoreCatalog stores, ILoggerFactory loggers)
    {
        stores.WriteGuard = MayWrite;
        _options = options;
        _control = control;
        _sinks = sinks;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Cluster");
        _control.Ownership = Owns;
    }

    public ClusterOptions Options => _options;

    /// <summary>This node's view now.</summary>
    public ClusterView View()
    {
        var members = _membership?.Members(); // never under the lock: the checkpoint guard takes it
        lock (_gate)
        {
            var slots = _slots.Order().ToList();
            var pipelines = _placement.Where(kv => _slots.Contains(kv.Value)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
            return new ClusterView(_options.Name, _options.EffectiveNodeId, _options.AdvertisedUrl, _membership?.MemberId ?? "", slots, pipelines,
                _rebalances, _lastRebalance, _everConfirmed ? _lastConfirmed : null, _fenced ?? (_membership is null ? _trouble : null), members);
        }
    }

    /// <summary>Why this node runs nothing now (fenced, cannot join), or null.</summary>
    public string? Problem
    {
        get { lock (_gate) return _fenced ?? (_membership is null ? _trouble : null); }
    }

    /// <summary>
    /// The checkpoint stores' guard: no write while this node is fenced, its membership is not confirmed within
    /// <see cref="ClusterOptions.SelfFenceAfter"/>, or the pipeline's slot was lost (the group may have given it away).
    /// A graceful revocation still writes the final checkpoint (the slot is not given away before it returns).
    /// </summary>
    private string? MayWrite(string pipeline)
    {
        lock (_gate)
        {
            if (_fenced != null) return _fenced;
            // The watchdog has not run for a while: the process was paused (SIGSTOP, a long GC pause) and a confirmation
            // that came in meanwhile may be stale (librdkafka's state from before the pause).
            var sinceTick = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTick);
            if (sinceTick >= PauseLimit) return $"this node's watchdog did not run for {sinceTick.TotalSeconds:0.0} s (the process was paused?)";
            var silent = DateTimeOffset.UtcNow - _lastConfirmed;
            if (silent >= _options.SelfFenceAfter) return $"this node's membership was not confirmed for {silent.TotalSeconds:0.0} s";
            if (_placement.TryGetValue(pipeline, out var s) && _lost.Contains(s)) return "its slot was lost to the group (another node may own it)";
            return null;
        }
    }

    private bool Owns(string pipeline)
    {
        lock (_gate) return _fenced is null && _placement.TryGetValue(pipeline, out var s) && _slots.Contains(s);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        RefreshPlacement();
        await _control.ApplyOwnershipAsync(Elsewhere, cancellationToken).ConfigureAwait(false);
        _control.Changed += OnControlChanged;
        var factory = Find<IClusterMembershipFactory>(f => f.Type == "kafka");
        var tables = Find<IClusterTableFactory>(f => f.Type == "kafka");
        if (factory is null || tables is null)
        {
            Fail("no cluster membership provider is loaded: cluster mode needs the kafka plugin in plugins_dir");
            return;
        }
        // Definitions first (every node must place the same pipelines), then the group; in the background, so a node
        // that cannot reach Kafka yet starts its API and says why.
        _joining = Task.Run(() => JoinAsync(factory, tables, _stopping.Token), CancellationToken.None);
    }

    /// <summary>Joins the group (after the pipeline definitions are read: see <see cref="ReadSharedAsync"/>).</summary>
    private void Join(IClusterMembershipFactory factory)
    {
        try
        {
            var logger = new PluginLogger(_loggers.CreateLogger("PluginHost.Cluster.kafka"), "(cluster)", SecretValues);
            var membership = factory.Create(new ClusterMembershipContext(_options.Name, _options.EffectiveNodeId, _options.Slots, _options.SessionTimeout, KafkaSettings, logger));
            _logger.Joining(_options.Name, _options.EffectiveNodeId, _options.Slots, _options.SessionTimeout);
            lock (_gate) _lastConfirmed = DateTimeOffset.UtcNow;
            _membership = membership;
            membership.Start(this);
        }
        catch (Exception e) when (e is SinkConfigurationException or InvalidOperationException or ArgumentException)
        {
            Fail($"cluster.kafka: {e.Message}");
            return;
        }
        _watchdog = new Timer(_ => Watch(), null, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200));
    }

    private JsonElement KafkaSettings => JsonSerializer.SerializeToElement(new Dictionary<string, object>
    {
        ["bootstrap_servers"] = _options.Kafka.BootstrapServers,
        ["client"] = _options.Kafka.Client,
    });

    private List<string> SecretValues => _options.Kafka.Client.Where(kv => Secrets.IsSecretKey(kv.Key)).Select(kv => kv.Value).ToList();

    private void Fail(string reason)
    {
        lock (_gate) _trouble = reason;
        _logger.NoMembership(reason);
    }

    private string Elsewhere => $"runs on another node of cluster '{_options.Name}' (see GET /cluster)";

    /// <summary>A provider of <typeparamref name="T"/> in the loaded plugins (the Kafka plugin's).</summary>
    private T? Find<T>(Func<T, bool> wanted) where T : class
    {
        foreach (var assembly in _sinks.Types.Select(_sinks.Find).OfType<ISinkFactory>().Select(f => f.GetType().Assembly).Distinct())
        {
            Type[] types;
            try { types = assembly.GetTypes(); }
            catch (System.Reflection.ReflectionTypeLoadException e) { types = e.Types.OfType<Type>().ToArray(); }
            foreach (var t in types)
                if (typeof(T).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface && t.GetConstructor(Type.EmptyTypes) != null &&
                    Activator.CreateInstance(t) is T f && wanted(f))
                    return f;
        }
        return null;
    }

    /// <summary>Recomputes where each pipeline is placed (the same on every node with the same definitions).</summary>
    private bool RefreshPlacement()
    {
        var names = _control.Entries().Where(e => e.Definition != null).Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        var key = string.Join("\n", names);
        lock (_gate)
        {
            if (key == _names) return false;
            _names = key;
            _placement = SlotMap.Place(names, _options.Slots);
            return true;
        }
    }

    private void OnControlChanged()
    {
        // A pipeline created or deleted over the API: placement may change; apply it outside the operation that raised this.
        if (RefreshPlacement()) _ = Task.Run(async () =>
        {
            await _control.ApplyOwnershipAsync(Elsewhere, CancellationToken.None).ConfigureAwait(false);
            Board?.Nudge();
        });
    }

    public void Assigned(IReadOnlyList<int> slots)
    {
        lock (_gate)
        {
            if (_fenced != null) return; // a rejoin follows; its assignment is the one that counts
            _slots.UnionWith(slots);
            _lost.ExceptWith(slots);
            _rebalances++;
            _lastRebalance = DateTimeOffset.UtcNow;
            _lastConfirmed = DateTimeOffset.UtcNow;
            _everConfirmed = true;
        }
        Apply();
        if (slots.Count > 0) _logger.Assigned(string.Join(",", slots), string.Join(",", View().Pipelines));
    }

    public void Revoked(IReadOnlyList<int> slots, bool lost)
    {
        lock (_gate)
        {
            _slots.ExceptWith(slots);
            if (lost) _lost.UnionWith(slots);
            _rebalances++;
            _lastRebalance = DateTimeOffset.UtcNow;
            // A revocation (not a loss) is the coordinator's answer in a rebalance this node takes part in: a
            // confirmation, as an assignment is. Stopping the pipelines below holds the consumer's poll, and with it
            // librdkafka's statistics (the other confirmations), so the self-fence window counts from here.
            if (!lost && _fenced is null && slots.Count > 0) _lastConfirmed = DateTimeOffset.UtcNow;
        }
        if (slots.Count > 0) _logger.Revoked(string.Join(",", slots), lost ? "lost (the group may have given them away)" : "revoked");
        // Returns only when their pipelines stopped: the group gives the slots to another node after this.
        Apply();
    }

    private void Apply()
    {
        _control.ApplyOwnershipAsync(Elsewhere, CancellationToken.None).GetAwaiter().GetResult();
        Board?.Nudge();
    }

    /// <summary>The longest gap between two runs of the watchdog (every 200 ms) that is not taken as a pause of the process.</summary>
    private TimeSpan PauseLimit => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _options.SelfFenceAfter.Ticks / 2));

    public void Confirmed(DateTimeOffset at)
    {
        bool rejoin;
        lock (_gate)
        {
            // After a pause, librdkafka may report the group "up" from its state before the pause: only a confirmation
            // once the watchdog has run again (and fenced this node if the pause was long) counts.
            if (System.Diagnostics.Stopwatch.GetElapsedTime(_lastTick) >= PauseLimit) return;
            _lastConfirmed = at;
            _everConfirmed = true;
            _trouble = null;
            rejoin = _fenced != null && !_rejoinAsked;
            if (rejoin) _rejoinAsked = true;
        }
        if (!rejoin) return;
        _logger.Rejoining();
        _membership?.Rejoin(() =>
        {
            lock (_gate)
            {
                _fenced = null;
                _rejoinAsked = false;
                _slots.Clear();
            }
        });
    }

    public void Trouble(string reason)
    {
        lock (_gate) _trouble = reason;
        _logger.Trouble(reason);
    }

    /// <summary>Self-fencing: no confirmation for too long, and pipelines owned: stop them all now.</summary>
    private void Watch()
    {
        string why;
        double seconds;
        lock (_gate)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            var gap = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTick, now);
            _lastTick = now;
            // A node that was a member and goes silent is fenced whether or not it holds slots now (its slots may have
            // been lost when the coordinator went away): it says it is out of the group, not a healthy idle member.
            if (_fenced != null || (_slots.Count == 0 && !_everConfirmed)) return;
            var silent = DateTimeOffset.UtcNow - _lastConfirmed;
            if (gap >= PauseLimit && _slots.Count > 0)
            {
                // Paused long enough for the group to have moved on: whatever librdkafka says now may predate the pause.
                seconds = gap.TotalSeconds;
                why = "this process was paused (SIGSTOP, a long GC pause or starvation): the group may have given its slots away";
            }
            else if (silent < _options.SelfFenceAfter) return;
            else
            {
                seconds = silent.TotalSeconds;
                why = _trouble ?? "the group coordinator did not answer";
            }
            _fenced = $"self-fenced: membership not confirmed for {seconds:0.0} s ({why})";
            _slots.Clear();
        }
        _logger.SelfFenced(seconds, why);
        _ = Task.Run(() => _control.ApplyOwnershipAsync(Problem ?? Elsewhere, CancellationToken.None));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _control.Changed -= OnControlChanged;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_joining != null) await _joining.ConfigureAwait(false);
        if (_watchdog != null) await _watchdog.DisposeAsync().ConfigureAwait(false);
        // Leaving revokes this node's slots (their pipelines stop and checkpoint) so the others take them at once.
        if (_membership != null) await _membership.DisposeAsync().ConfigureAwait(false);
        _membership = null;
        await DisposeSharedAsync().ConfigureAwait(false);
    }

    public void Dispose() => _watchdog?.Dispose();
}
