using Microsoft.Extensions.Logging;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Cluster;

/// <summary>The cluster's shared tables: the pipeline definitions (read before joining) and the pipelines' statuses.</summary>
internal sealed partial class ClusterNode
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _joining;
    private ClusterDefinitions? _definitions;
    private ClusterStatusBoard? _board;

    /// <summary>Every node's published pipeline statuses (null until read, or when they cannot be).</summary>
    public ClusterStatusBoard? Board => Volatile.Read(ref _board);

    /// <summary>Whether this node runs (owns) <paramref name="pipeline"/> now.</summary>
    public bool RunsHere(string pipeline) => Owns(pipeline);

    /// <summary>
    /// Reads the pipelines topic whole (retrying until Kafka answers: no pipeline is placed before), starts the status
    /// board, then joins the group.
    /// </summary>
    private async Task JoinAsync(IClusterMembershipFactory membership, IClusterTableFactory tables, CancellationToken ct)
    {
        var logger = new PluginLogger(_loggers.CreateLogger("PluginHost.Cluster.kafka"), "(cluster)", SecretValues);
        var timeout = _options.SessionTimeout < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : _options.SessionTimeout;
        string? said = null;
        while (!ct.IsCancellationRequested)
        {
            IClusterTable? table = null;
            try
            {
                table = tables.Create(new ClusterTableContext(_options.Name, _options.EffectiveNodeId, "pipelines", timeout, KafkaSettings, logger));
                var definitions = new ClusterDefinitions(table, _control, _logger);
                await definitions.StartAsync(ct).ConfigureAwait(false);
                _definitions = definitions;
                lock (_gate) _trouble = null;
                break;
            }
            catch (SinkConfigurationException e)
            {
                Fail($"cluster.kafka: {e.Message}");
                return;
            }
            catch (OperationCanceledException)
            {
                if (table != null) await table.DisposeAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (table != null) await table.DisposeAsync().ConfigureAwait(false);
                var why = $"cannot read the pipeline definitions from topic '{_options.Name}.pipelines' ({e.Message}); this node runs no pipeline until it can";
                lock (_gate) _trouble = why;
                if (why != said) _logger.Trouble(why);
                said = why;
                try { await Task.Delay(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
        if (ct.IsCancellationRequested) return;
        RefreshPlacement();
        try
        {
            var board = new ClusterStatusBoard(tables.Create(new ClusterTableContext(_options.Name, _options.EffectiveNodeId, "status", timeout, KafkaSettings, logger)),
                _options.EffectiveNodeId, _options.AdvertisedUrl, _options.SessionTimeout, _logger) { Source = StatusSource };
            await board.StartAsync(ct).ConfigureAwait(false);
            Volatile.Write(ref _board, board);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            _logger.Trouble($"cannot read topic '{_options.Name}.status' ({e.Message}): GET /pipelines and /health show only this node's pipelines, and calls for another node's pipeline are not forwarded");
        }
        if (!ct.IsCancellationRequested) Join(membership);
    }

    /// <summary>What the status board publishes (set by the API room: the statuses of the pipelines this node runs).</summary>
    public Func<IReadOnlyList<string>, IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject>>? Statuses { get; set; }

    private IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonObject> StatusSource() =>
        Statuses is { } s && View() is { Fenced: null, Pipelines.Count: > 0 } v ? s(v.Pipelines) : new Dictionary<string, System.Text.Json.Nodes.JsonObject>();

    private async Task DisposeSharedAsync()
    {
        if (Interlocked.Exchange(ref _board, null) is { } board) await board.DisposeAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _definitions, null) is { } definitions) await definitions.DisposeAsync().ConfigureAwait(false);
    }
}
