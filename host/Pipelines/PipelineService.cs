using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// One pipeline as a hosted service: builds its sink from the catalog, runs a <see cref="PipelineRunner"/> until the
/// host stops, and on a fatal error moves to <see cref="PipelineState.Failed"/> without touching other pipelines.
/// </summary>
public sealed class PipelineService : BackgroundService
{
    private readonly HostConfig _config;
    private readonly SinkCatalog _sinks;
    private readonly ICheckpointStore _store;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private PipelineRunner? _runner;

    public PipelineService(PipelineDefinition definition, HostConfig config, SinkCatalog sinks, ICheckpointStore store, ILoggerFactory loggers)
    {
        Definition = definition;
        _config = config;
        _sinks = sinks;
        _store = store;
        _loggers = loggers;
        _logger = loggers.CreateLogger("PluginHost.Pipeline." + definition.Name);
        Status = new PipelineStatus(definition.Name);
    }

    public PipelineDefinition Definition { get; }
    public PipelineStatus Status { get; }

    /// <summary>The running engine (null before start or after a failure).</summary>
    public PipelineRunner? Runner => _runner;

    /// <summary>Lets tests and the demo adjust the binlog client (heartbeats, backoff).</summary>
    public Func<Binlog.Replication.BinlogClientOptions, Binlog.Replication.BinlogClientOptions>? ConfigureClient { get; init; }

    /// <summary>Creates the pipeline's sink from its settings (throws <see cref="SinkConfigurationException"/> on bad settings).</summary>
    public static ISink CreateSink(PipelineDefinition definition, HostConfig config, SinkCatalog sinks, ILoggerFactory loggers)
    {
        var factory = sinks.Find(definition.SinkType)
                      ?? throw new SinkConfigurationException("type", $"unknown sink type '{definition.SinkType}' (known: {string.Join(", ", sinks.Types.Order())})");
        var logger = new PluginLogger(loggers.CreateLogger($"PluginHost.Sink.{definition.SinkType}"), definition.Name);
        return factory.Create(new SinkContext(definition.Name, definition.SinkSettings, logger, config.BaseDirectory));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        ISink sink;
        try
        {
            sink = CreateSink(Definition, _config, _sinks, _loggers);
        }
        catch (Exception e)
        {
            Status.State = PipelineState.Failed;
            Status.SetError($"sink: {e.Message}");
            _logger.LogError("pipeline {Pipeline}: cannot create its {Type} sink: {Error}", Definition.Name, Definition.SinkType, e.Message);
            return;
        }
        DeadLetterFile? deadLetter = Definition.DeadLetterPath is { } dl ? new DeadLetterFile(_config.Resolve(dl)) : null;
        try
        {
            _runner = new PipelineRunner(Definition, sink, _store, _logger, Status, transform: null, deadLetter)
            {
                ConfigureClient = ConfigureClient,
            };
            await _runner.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested || e is not OperationCanceledException)
        {
            // Already recorded as Failed by the runner; the process and other pipelines go on.
            if (Status.State != PipelineState.Failed)
            {
                Status.State = PipelineState.Failed;
                Status.SetError(e.Message);
            }
        }
        finally
        {
            await (_runner?.Sink ?? sink).DisposeAsync().ConfigureAwait(false);
            deadLetter?.Dispose();
        }
    }
}
