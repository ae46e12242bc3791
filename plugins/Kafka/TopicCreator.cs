using Confluent.Kafka;
using Confluent.Kafka.Admin;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Creates topics through the admin API the first time they are used. An existing topic is fine. When the cluster
/// refuses the admin API (no CreateTopics support, not authorised), it says so once and from then on relies on the
/// broker's auto-creation. A cluster that cannot be reached is asked again later.
/// </summary>
internal sealed class TopicCreator : IDisposable
{
    /// <summary>Clusters (by bootstrap list) that refused the admin API lately: other sinks of this process skip the attempt.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> RefusedBy = new(StringComparer.Ordinal);

    private readonly string _cluster;
    private readonly Func<IAdminClient> _adminFactory;
    private readonly int _partitions;
    private readonly short _replicationFactor;
    private readonly Dictionary<string, string> _config;
    private readonly IPluginLogger _logger;
    private readonly TimeSpan _timeout;
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _retryAfter = new(StringComparer.Ordinal);
    private IAdminClient? _admin;
    private bool _refused;

    public TopicCreator(Func<IAdminClient> adminFactory, string cluster, int partitions, int replicationFactor, Dictionary<string, string> config,
        IPluginLogger logger, TimeSpan timeout)
    {
        _adminFactory = adminFactory;
        _cluster = cluster;
        _refused = RefusedBy.TryGetValue(cluster, out var until) && Environment.TickCount64 < until;
        _partitions = partitions;
        _replicationFactor = (short)replicationFactor;
        _config = config;
        _logger = logger;
        _timeout = timeout;
    }

    /// <summary>True once the cluster refused the admin API.</summary>
    public bool Refused => _refused;

    /// <summary>True when <paramref name="topic"/> still needs an attempt.</summary>
    public bool Needs(string topic) => !_refused && !_done.Contains(topic) &&
                                       (!_retryAfter.TryGetValue(topic, out var at) || Environment.TickCount64 >= at);

    /// <summary>Creates the topics not yet known to exist. Never throws for cluster answers: production goes on either way.</summary>
    public async Task EnsureAsync(IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        var wanted = topics.Where(Needs).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0) return;
        _admin ??= _adminFactory();
        var specs = wanted.Select(t => new TopicSpecification
        {
            Name = t,
            NumPartitions = _partitions,
            ReplicationFactor = _replicationFactor,
            Configs = _config.Count == 0 ? null : new Dictionary<string, string>(_config),
        }).ToList();
        // A short request timeout: a healthy controller answers in milliseconds, and one that never answers must not stall the pipeline long.
        var options = new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(3), OperationTimeout = _timeout };
        try
        {
            await _admin.CreateTopicsAsync(specs, options).WaitAsync(_timeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            foreach (var t in wanted) Created(t);
        }
        catch (CreateTopicsException e)
        {
            foreach (var r in e.Results)
            {
                if (r.Error.Code is ErrorCode.NoError) Created(r.Topic);
                else if (r.Error.Code is ErrorCode.TopicAlreadyExists) _done.Add(r.Topic);
                else if (IsRefusal(r.Error.Code)) Refuse(r.Error);
                else if (KafkaClients.IsTransient(r.Error)) Later(r.Topic, r.Error);
                else
                {
                    _done.Add(r.Topic);
                    _logger.Warning($"cannot create topic '{r.Topic}': {KafkaClients.Describe(r.Error)}; relying on the broker's auto-creation");
                }
            }
        }
        catch (KafkaException e) when (IsRefusal(e.Error.Code))
        {
            Refuse(e.Error);
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_TimedOut && e.Error.Reason.Contains("controller", StringComparison.OrdinalIgnoreCase) && Reachable())
        {
            // The brokers answer but name no controller (librdkafka's mock cluster, some proxies): admin requests cannot work.
            Refuse(new Error(ErrorCode.Local_UnsupportedFeature, "the brokers answer but name no controller for admin requests"));
        }
        catch (KafkaException e)
        {
            foreach (var t in wanted) Later(t, e.Error);
        }
        catch (TimeoutException)
        {
            foreach (var t in wanted) Later(t, new Error(ErrorCode.Local_TimedOut, "no answer from the cluster"));
        }
    }

    private bool Reachable()
    {
        try
        {
            return _admin!.GetMetadata(TimeSpan.FromSeconds(3)).Brokers.Count > 0;
        }
        catch (KafkaException)
        {
            return false;
        }
    }

    private void Created(string topic)
    {
        _done.Add(topic);
        _logger.Info($"created topic '{topic}' ({(_partitions < 0 ? "default" : _partitions.ToString())} partitions, replication {(_replicationFactor < 0 ? "default" : _replicationFactor.ToString())})");
    }

    private void Later(string topic, Error error)
    {
        _retryAfter[topic] = Environment.TickCount64 + 30_000;
        _logger.Warning($"cannot create topic '{topic}' now ({KafkaClients.Describe(error)}); producing anyway, will try again in 30 s");
    }

    private void Refuse(Error error)
    {
        if (_refused) return;
        _refused = true;
        RefusedBy[_cluster] = Environment.TickCount64 + 10 * 60_000;
        _logger.Warning($"the cluster refuses to create topics ({KafkaClients.Describe(error)}); PluginHost will not create topics and relies on the broker's auto.create.topics.enable");
    }

    private static bool IsRefusal(ErrorCode code) => code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion or
        ErrorCode.ClusterAuthorizationFailed or ErrorCode.TopicAuthorizationFailed or ErrorCode.InvalidRequest or ErrorCode.PolicyViolation;

    /// <summary>Drops the admin client (its producer is being replaced); the next call makes a new one.</summary>
    public void Reset()
    {
        _admin?.Dispose();
        _admin = null;
    }

    public void Dispose() => Reset();
}
