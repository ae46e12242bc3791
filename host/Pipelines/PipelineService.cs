using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Binlog.Replication;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;

namespace PluginHost.Pipelines;

/// <summary>
/// One pipeline as a hosted service: builds its sink from the catalog, runs a <see cref="PipelineRunner"/> until the
/// host stops, and on a fatal error moves to <see cref="PipelineState.Failed"/> without touching other pipelines.
/// </summary>
internal sealed class PipelineService : BackgroundService
{
    private readonly HostConfig _config;
    private readonly SinkCatalog _sinks;
    private readonly ICheckpointStore _store;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Func<BinlogClientOptions, BinlogClientOptions>? _configureClient;
    private readonly YoungGenerationBudget? _gen0Budget;
    private PipelineRunner? _runner;

    /// <param name="configureClient">Adjusts the binlog client options (tests shorten heartbeats and backoff).</param>
    /// <param name="gen0Budget">The host's gen0 budget (null: one of the default size for this pipeline).</param>
    public PipelineService(PipelineDefinition definition, HostConfig config, SinkCatalog sinks, ICheckpointStore store, ILoggerFactory loggers,
        Func<BinlogClientOptions, BinlogClientOptions>? configureClient = null, YoungGenerationBudget? gen0Budget = null)
    {
        _configureClient = configureClient;
        _gen0Budget = gen0Budget;
        Definition = definition;
        _config = config;
        _sinks = sinks;
        _store = store;
        _loggers = loggers;
        // Every line of the pipeline (its runner, binlog client, transform host) is scrubbed of its secrets.
        _logger = SecretScrubbingLogger.For(loggers, "PluginHost.Pipeline." + definition.Name, definition);
        Status = new PipelineStatus(definition.Name);
    }

    public PipelineDefinition Definition { get; }
    public PipelineStatus Status { get; }

    /// <summary>The running engine (null before start or after a failure).</summary>
    public PipelineRunner? Runner => _runner;

    /// <summary>The pipeline's transform script and its compiled versions (null: no transform, or not started).</summary>
    public Scripting.ScriptTransformHost? Scripts { get; private set; }

    /// <summary>Where the pipeline's checkpoint store comes from when it is not the file store (null: a catalog of the sink plugins' stores).</summary>
    public CheckpointStoreCatalog? Checkpoints { get; init; }

    /// <summary>Helper plugins the pipeline's transform script compiles against (null: none).</summary>
    public IHelperAssemblySource? Helpers { get; init; }

    /// <summary>
    /// Checks the pipeline's sink settings as <see cref="CreateSink"/> would, without touching a running pipeline's
    /// output where the sink can say so (<see cref="ISinkSettingsCheck"/>); other sinks are created and disposed.
    /// </summary>
    public static async Task CheckSinkAsync(PipelineDefinition definition, HostConfig config, SinkCatalog sinks, ILoggerFactory loggers)
    {
        if (sinks.Find(definition.SinkType) is ISinkSettingsCheck check)
        {
            check.Check(ApiPaths.SinkContext(definition, config, new PluginLogger(loggers.CreateLogger($"PluginHost.Sink.{definition.SinkType}"), definition)));
            return;
        }
        await CreateSink(definition, config, sinks, loggers).DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Creates the pipeline's sink from its settings (throws <see cref="SinkConfigurationException"/> on bad settings).</summary>
    public static ISink CreateSink(PipelineDefinition definition, HostConfig config, SinkCatalog sinks, ILoggerFactory loggers)
    {
        var factory = sinks.Find(definition.SinkType)
                      ?? throw new SinkConfigurationException("type", $"unknown sink type '{definition.SinkType}' (known: {string.Join(", ", sinks.Types.Order())})");
        var logger = new PluginLogger(loggers.CreateLogger($"PluginHost.Sink.{definition.SinkType}"), definition);
        return factory.Create(ApiPaths.SinkContext(definition, config, logger));
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
            _logger.CannotCreateSink(Definition.Name, Definition.SinkType, e.Message);
            return;
        }
        ICheckpointStore opened;
        try
        {
            opened = (Checkpoints ?? new CheckpointStoreCatalog(_sinks)).Open(Definition, _config, _store, _loggers);
        }
        catch (Exception e)
        {
            Status.State = PipelineState.Failed;
            Status.SetError($"checkpoint: {e.Message}");
            _logger.CannotOpenCheckpointStore(Definition.Name, Definition.Options.Checkpoint.Type, e.Message);
            await sink.DisposeAsync().ConfigureAwait(false);
            return;
        }
        // Saved checkpoints are noted in the pipeline's history (state_dir), whatever the store.
        var store = new HistoryRecordingStore(opened, new CheckpointHistory(_config.StateDirectory), Definition.Options.Checkpoint.HistoryInterval, _logger);
        string? deadLetterPath;
        ITransformSource? transformSource;
        try
        {
            // A pipeline set over the REST API is confined (checked when it was sent; again here, in case links moved since).
            deadLetterPath = Definition.DeadLetterPath is not { } dl ? null : Definition.FromApi ? ApiPaths.Output(_config, "dead_letter", dl) : _config.Resolve(dl);
            transformSource = TransformSourceOf(Definition, _config);
        }
        catch (Exception e) when (e is SinkConfigurationException or IOException or UnauthorizedAccessException)
        {
            Status.State = PipelineState.Failed;
            Status.SetError(e.Message);
            _logger.CannotStart(Definition.Name, e.Message);
            await sink.DisposeAsync().ConfigureAwait(false);
            if (!ReferenceEquals(opened, _store) && opened is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
            return;
        }
        DeadLetterFile? deadLetter = deadLetterPath is { } dlp ? new DeadLetterFile(dlp, Secrets.ValuesOf(Definition)) : null;
        // The transform script: compiled before the first event (waits for a fix if it does not compile), then hot-reloaded.
        var scripts = Scripts = transformSource is { } source
            ? new Scripting.ScriptTransformHost(source, Definition.TransformPath ?? "transform.rules", Helpers, Definition.Options.TransformTimeout, Status, _logger)
            {
                Cache = Scripting.CompiledScriptCache.ForStateDirectory(_config.StateDirectory),
                QuotesSource = source.Files.All(ApiPaths.QuotesSource),
            }
            : null;
        // Every compile attempt counts on /metrics (pluginhost_transform_reloads_total); first of the listeners.
        if (scripts != null) scripts.Reloaded += r => PipelineMetrics.TransformCompiled(Status.Name, r.Success);
        CancellationTokenSource? initialCompile = null;
        Task<IEventTransform?>? initialTransform = null;
        try
        {
            // The first compile runs while the runner loads its checkpoint and connects; its writer waits for it.
            var runnerReady = new TaskCompletionSource<PipelineRunner>(TaskCreationOptions.RunContinuationsAsynchronously);
            initialCompile = scripts is null ? null : CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            initialTransform = scripts is null ? null : StartTransformAsync(scripts, runnerReady.Task, initialCompile!.Token);
            var runner = _runner = new PipelineRunner(Definition, sink, store, _logger, Status, null, deadLetter, _configureClient, _gen0Budget)
            {
                InitialTransform = initialTransform,
                StateDirectory = _config.StateDirectory,
                SnapshotSource = ct => ChunkReaderSource.OpenAsync(Definition.Connection, Definition.Snapshot.Consistency, ct),
            };
            runnerReady.SetResult(runner);
            // The runner owns the sink now (and may swap it): this method's hoisted local must not pin the first
            // sink, or a plugin version replaced by a hot reload could never be unloaded while the pipeline runs.
            sink = null!;
            await runner.RunAsync(stoppingToken).ConfigureAwait(false);
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
            if (!ReferenceEquals(opened, _store) && opened is IAsyncDisposable storeDisposable) await storeDisposable.DisposeAsync().ConfigureAwait(false);
            deadLetter?.Dispose();
            // A first compile still running (the runner ended early) stops and settles before its host is disposed,
            // so no version is loaded into a host that is gone.
            if (initialCompile != null)
            {
                await initialCompile.CancelAsync().ConfigureAwait(false);
                try { await initialTransform!.ConfigureAwait(false); } catch (Exception) { }
                initialCompile.Dispose();
            }
            scripts?.Dispose();
        }
    }

    /// <summary>The pipeline's transform: a <c>.csx</c>, a <c>.js</c> (native contract) or a JavaScript rule chain; null: none.</summary>
    private static ITransformSource? TransformSourceOf(PipelineDefinition definition, HostConfig config)
    {
        string Resolve(string path) => definition.FromApi ? ApiPaths.Transform(config, path) : config.ResolveTransform(path);
        if (definition.TransformRules is { } rules) return Scripting.JavaScript.JavaScriptTransformSource.Rules(definition.Name, rules, Resolve);
        if (definition.TransformPath is not { } t) return null;
        var file = Resolve(t);
        return t.EndsWith(".js", StringComparison.OrdinalIgnoreCase)
            ? Scripting.JavaScript.JavaScriptTransformSource.Native(definition.Name, file)
            : new CSharpTransformSource(Path.GetFullPath(file));
    }

    /// <summary>Compiles the first version (waiting for a fix if it does not compile), then hands later versions to the runner.</summary>
    private static async Task<IEventTransform?> StartTransformAsync(Scripting.ScriptTransformHost scripts, Task<PipelineRunner> runner, CancellationToken stoppingToken)
    {
        await Task.Yield(); // compile off the caller's path: the runner goes on to its checkpoint and connection
        var transform = await scripts.StartAsync(stoppingToken).ConfigureAwait(false);
        scripts.Attach((await runner.ConfigureAwait(false)).SwapTransform, transform);
        return transform;
    }
}