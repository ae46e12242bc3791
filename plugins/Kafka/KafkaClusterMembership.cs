using System.Text.Json;
using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary><c>cluster: { kafka: { … } }</c> — the brokers the nodes meet on.</summary>
public sealed class KafkaClusterOptions
{
    public string BootstrapServers { get; set; } = "";

    /// <summary>librdkafka settings for every client of the cluster (e.g. <c>security.protocol</c>, <c>sasl.*</c>).</summary>
    public Dictionary<string, string> Client { get; set; } = [];
}

/// <summary>Cluster membership through Kafka's consumer-group protocol; see <see cref="KafkaClusterMembership"/>.</summary>
public sealed class KafkaClusterMembershipFactory : IClusterMembershipFactory
{
    public string Type => "kafka";

    public IClusterMembership Create(ClusterMembershipContext context) => new KafkaClusterMembership(context);
}

/// <summary>
/// A node's membership in the consumer group <c>pluginhost-cluster-&lt;name&gt;</c>, subscribed to the slots topic
/// <c>&lt;name&gt;.slots</c> (one partition per slot) with the cooperative-sticky assignor: the group's leader spreads the
/// partitions evenly and moves only what it must. No record is ever read from it; the partitions are the slots.
/// Membership is confirmed from librdkafka's statistics (group state <c>up</c> and the coordinator connection up).
/// </summary>
public sealed class KafkaClusterMembership : IClusterMembership
{
    private readonly ClusterMembershipContext _context;
    private readonly Dictionary<string, string> _config;
    private readonly CancellationTokenSource _stop = new();
    private IConsumer<Ignore, Ignore>? _consumer;
    private Thread? _thread;
    private IClusterListener? _listener;
    private IAdminClient? _admin;

    public KafkaClusterMembership(ClusterMembershipContext context)
    {
        _context = context;
        var o = SettingsBinder.Bind<KafkaClusterOptions>(context.Settings);
        if (string.IsNullOrWhiteSpace(o.BootstrapServers) && !o.Client.ContainsKey("bootstrap.servers"))
            throw new SinkConfigurationException("bootstrap_servers", "is required");
        SlotsTopic = TopicOf(context.Cluster);
        var session = (int)context.SessionTimeout.TotalMilliseconds;
        _config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = o.BootstrapServers,
            ["client.id"] = context.NodeId,
            ["group.id"] = GroupOf(context.Cluster),
            ["session.timeout.ms"] = session.ToString(),
            ["heartbeat.interval.ms"] = Math.Max(100, session / 6).ToString(),
            ["partition.assignment.strategy"] = "cooperative-sticky",
            ["enable.auto.commit"] = "false",
            ["statistics.interval.ms"] = "500",
            ["topic.metadata.refresh.interval.ms"] = "5000",
        };
        foreach (var (k, v) in o.Client) _config[k] = v;
        KafkaNative.EnsureResolver();
    }

    /// <summary>The slots topic of a cluster.</summary>
    public static string TopicOf(string cluster) => cluster + ".slots";

    /// <summary>The consumer group of a cluster.</summary>
    public static string GroupOf(string cluster) => "pluginhost-cluster-" + cluster;

    /// <summary>The topic whose partitions are the slots.</summary>
    public string SlotsTopic { get; }

    public string MemberId
    {
        get
        {
            try { return _consumer?.MemberId ?? ""; }
            catch (ObjectDisposedException) { return ""; }
        }
    }

    public void Start(IClusterListener listener)
    {
        _listener = listener;
        EnsureSlotsTopic();
        _consumer = Join(listener);
        _thread = new Thread(Poll) { IsBackground = true, Name = "cluster-membership" };
        _thread.Start();
    }

    /// <summary>A consumer of its own (a new member of the group) subscribed to the slots topic.</summary>
    private IConsumer<Ignore, Ignore> Join(IClusterListener listener)
    {
        var consumer = new ConsumerBuilder<Ignore, Ignore>(_config)
            .SetLogHandler(KafkaClients.LogHandler(_context.Logger))
            .SetErrorHandler((_, e) => listener.Trouble(KafkaClients.Describe(e)))
            .SetStatisticsHandler((_, json) => OnStatistics(json))
            .SetPartitionsAssignedHandler((_, ps) => listener.Assigned(Slots(ps)))
            .SetPartitionsRevokedHandler((_, ps) => listener.Revoked(Slots(ps.Select(p => p.TopicPartition)), false))
            .SetPartitionsLostHandler((_, ps) => listener.Revoked(Slots(ps.Select(p => p.TopicPartition)), true))
            .Build();
        consumer.Subscribe(SlotsTopic);
        return consumer;
    }

    /// <summary>Creates the slots topic with one partition per slot when it does not exist (a cluster that refuses leaves it to the operator).</summary>
    private void EnsureSlotsTopic()
    {
        using var creator = new TopicCreator(() => KafkaClients.BuildAdmin(AdminConfig(), _context.Logger), _config["bootstrap.servers"], _context.Slots, -1,
            [], _context.Logger, TimeSpan.FromSeconds(10));
        try
        {
            creator.EnsureAsync([SlotsTopic], _stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is KafkaException or TimeoutException or OperationCanceledException)
        {
            _context.Logger.Warning($"cannot create the slots topic '{SlotsTopic}': {e.Message}; create it with {_context.Slots} partitions");
        }
    }

    private Dictionary<string, string> AdminConfig() =>
        _config.Where(kv => kv.Key is not ("group.id" or "session.timeout.ms" or "heartbeat.interval.ms" or "partition.assignment.strategy"
            or "enable.auto.commit" or "statistics.interval.ms")).ToDictionary(kv => kv.Key, kv => kv.Value);

    private static List<int> Slots(IEnumerable<TopicPartition> ps) => ps.Select(p => p.Partition.Value).Order().ToList();

    private volatile Action? _rejoin;

    public void Rejoin(Action rejoined) => _rejoin = rejoined;

    private void Poll()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_rejoin is { } rejoined)
                {
                    // A new member replaces the old one: closing leaves the group (serving the revocation itself), where an
                    // unsubscribe and subscribe on the same consumer could stall the poll thread behind a pending rebalance
                    // (seen under heavy load: the node kept its slots in the group and ran nothing).
                    _rejoin = null;
                    var old = _consumer!;
                    try { old.Close(); }
                    catch (KafkaException e) { _listener!.Trouble(KafkaClients.Describe(e.Error)); }
                    old.Dispose();
                    _consumer = Join(_listener!);
                    rejoined();
                }
                _consumer!.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException e)
            {
                _listener!.Trouble(KafkaClients.Describe(e.Error));
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (KafkaException e)
            {
                _listener!.Trouble(KafkaClients.Describe(e.Error));
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>Confirms membership when the group is up and steady and the coordinator's connection is up.</summary>
    private void OnStatistics(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (!root.TryGetProperty("cgrp", out var cgrp)) return;
            var state = cgrp.TryGetProperty("state", out var s) ? s.GetString() : null;
            var join = cgrp.TryGetProperty("join_state", out var j) ? j.GetString() : null;
            var coordinatorUp = false;
            if (root.TryGetProperty("brokers", out var brokers))
                foreach (var b in brokers.EnumerateObject())
                    if (b.Name.StartsWith("GroupCoordinator", StringComparison.Ordinal) && b.Value.TryGetProperty("state", out var bs) && bs.GetString() == "UP")
                        coordinatorUp = true;
            if (state == "up" && coordinatorUp && join != "init") _listener!.Confirmed(DateTimeOffset.UtcNow);
        }
        catch (JsonException)
        {
            // a statistics line we cannot read confirms nothing
        }
    }

    private volatile IReadOnlyList<string>? _members;
    private long _membersAsked;
    private int _refreshing;

    /// <summary>The group's members as last listed (refreshed in the background at most every 5 s; never blocks).</summary>
    public IReadOnlyList<string>? Members()
    {
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _membersAsked) > 5000 && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _membersAsked, now);
            _ = Task.Run(() =>
            {
                try
                {
                    _admin ??= KafkaClients.BuildAdmin(AdminConfig(), _context.Logger);
                    var group = _admin.ListGroup(GroupOf(_context.Cluster), TimeSpan.FromSeconds(2));
                    _members = group?.Members.Select(m => m.ClientId).Order(StringComparer.Ordinal).ToList();
                }
                catch (Exception e) when (e is KafkaException or InvalidOperationException or ObjectDisposedException)
                {
                    _members = null;
                }
                finally
                {
                    Volatile.Write(ref _refreshing, 0);
                }
            });
        }
        return _members;
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        try
        {
            // Leaving the group revokes this node's slots first (the listener stops their work) so others take them at once.
            _consumer?.Close();
        }
        catch (KafkaException)
        {
        }
        _consumer?.Dispose();
        _admin?.Dispose();
        return ValueTask.CompletedTask;
    }
}
