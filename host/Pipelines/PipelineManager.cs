using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Scripting;

namespace PluginHost.Pipelines;

/// <summary>
/// Owns the running pipelines of a configuration snapshot: starts each as its own hosted service, stops them
/// (gracefully, in parallel) with the host, and lets pipelines be added, replaced and removed at run time. A host
/// that serves no API (<c>server.enabled: false</c>) stops once every pipeline is completed (one-shot
/// <c>initial_only</c> snapshots): <c>pluginhost run</c> then exits 0.
/// </summary>
internal sealed partial class PipelineManager : IHostedService
{
    private readonly SinkCatalog _sinks;
    private readonly ICheckpointStore _store;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Dictionary<string, PipelineService> _services = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    private readonly IHelperAssemblySource? _helpers;

    private readonly CheckpointStoreCatalog _checkpoints;
    private readonly BinlogClientTuning? _clientTuning;
    private readonly YoungGenerationBudget _gen0Budget;
    private readonly IHostApplicationLifetime? _lifetime;

    /// <param name="clientTuning">Adjusts the binlog client of each pipeline started (tests register one).</param>
    /// <param name="gen0Budget">The host's gen0 budget, shared by its pipelines' writers (null: one of the default size).</param>
    /// <param name="lifetime">Stopped once every pipeline is completed, when no API is served (null: never).</param>
    public PipelineManager(HostConfig config, SinkCatalog sinks, ICheckpointStore store, ILoggerFactory loggers, IHelperAssemblySource? helpers = null,
        CheckpointStoreCatalog? checkpoints = null, BinlogClientTuning? clientTuning = null, YoungGenerationBudget? gen0Budget = null,
        IHostApplicationLifetime? lifetime = null)
    {
        _lifetime = lifetime;
        _clientTuning = clientTuning;
        _gen0Budget = gen0Budget ?? new YoungGenerationBudget();
        _checkpoints = checkpoints ?? new CheckpointStoreCatalog(sinks);
        _helpers = helpers;
        Config = config;
        _sinks = sinks;
        _store = store;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Pipelines");
    }

    /// <summary>The configuration snapshot in force.</summary>
    public HostConfig Config { get; private set; }

    public IReadOnlyList<PipelineService> Pipelines
    {
        get { lock (_services) return _services.Values.ToList(); }
    }

    public PipelineService? Find(string name)
    {
        lock (_services) return _services.GetValueOrDefault(name);
    }

    /// <summary>Cluster mode: no pipeline starts with the host; the cluster starts those this node owns.</summary>
    public bool DeferStart { get; set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (DeferStart) return;
        foreach (var p in Config.Pipelines.Where(p => p.Options.Enabled))
            await StartPipelineAsync(p, cancellationToken).ConfigureAwait(false);
        _logger.PipelinesStarted(_services.Count, Config.FilePath);
    }

    /// <summary>Starts (or replaces) one pipeline.</summary>
    public async Task StartPipelineAsync(PipelineDefinition definition, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PipelineService? old;
            lock (_services) _services.TryGetValue(definition.Name, out old);
            if (old != null) await old.StopAsync(CancellationToken.None).ConfigureAwait(false);
            var service = new PipelineService(definition, Config, _sinks, _store, _loggers, _clientTuning?.Adjust, _gen0Budget)
            {
                Helpers = _helpers,
                Checkpoints = _checkpoints,
            };
            lock (_services) _services[definition.Name] = service;
            await service.StartAsync(cancellationToken).ConfigureAwait(false);
            if (_lifetime != null && !Config.Options.Server.Enabled && service.ExecuteTask is { } running)
                _ = running.ContinueWith(_ => StopWhenAllCompleted(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops and removes one pipeline (its checkpoint stays unless <paramref name="forget"/>).</summary>
    public async Task<bool> RemovePipelineAsync(string name, bool forget, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PipelineService? service;
            lock (_services)
            {
                if (!_services.Remove(name, out service)) return false;
            }
            await service.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (forget)
            {
                // The pipeline's own store (file or e.g. kafka), opened just for this.
                var store = _checkpoints.Open(service.Definition, Config, _store, _loggers);
                try
                {
                    await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    if (!ReferenceEquals(store, _store) && store is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
                }
            }
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A pipeline ended: when every one is completed, the process has nothing more to do.</summary>
    private void StopWhenAllCompleted()
    {
        var all = Pipelines;
        if (all.Count == 0 || all.Any(p => p.Status.State != PipelineState.Completed)) return;
        _logger.PipelinesAllCompleted(all.Count);
        _lifetime!.StopApplication();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var all = Pipelines;
        await Task.WhenAll(all.Select(s => s.StopAsync(cancellationToken))).ConfigureAwait(false);
        _logger.PipelinesStopped();
    }
}
