using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Cli;

/// <summary><c>pluginhost run --config FILE</c>: runs every pipeline of a configuration until stopped (Ctrl+C, SIGTERM).</summary>
internal static class RunCommand
{
    /// <summary><c>run</c>: <c>--config FILE</c>, or the embedded demo (with a note saying so) when no configuration is named.</summary>
    public static Command Create()
    {
        var config = CliOptions.Config("The configuration: pluginhost.yaml, pikachu's config.yaml (with its tasks.yaml), or go-mysql-kafka's " +
                                       "FILE.toml or a folder of them. Without it: the embedded demo");
        var pikachuConfig = CliOptions.PikachuConfig();
        var seconds = CliOptions.Seconds();
        var listen = CliOptions.Listen();
        var command = new Command("run", "Run every pipeline of a configuration until stopped (Ctrl+C, SIGTERM), with the REST API, " +
                                         "health, metrics and dashboard on server.listen") { config, pikachuConfig, seconds, listen };
        command.SetAction(async (result, _) =>
        {
            if (result.GetConfig(config, pikachuConfig) is { } path)
                return await RunAsync(path, result.GetValue(seconds), result.GetValue(listen)).ConfigureAwait(false);
            await result.InvocationConfiguration.Error.WriteLineAsync(
                "pluginhost run: no --config FILE given: starting the embedded demo (pluginhost run --config FILE runs your pipelines)").ConfigureAwait(false);
            return await DemoCommand.RunAsync(result.GetValue(seconds)).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Loads <paramref name="path"/> and runs its pipelines until stopped (or for <paramref name="seconds"/> when above 0);
    /// <paramref name="listen"/> (<c>--listen</c>) overrides <c>server.listen</c>.
    /// </summary>
    public static async Task<int> RunAsync(string path, int seconds = 0, string? listen = null)
    {
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        HostConfig config;
        try
        {
            // Sink types and settings are validated by RunHostAsync, once the plugins that provide them are loaded.
            config = ConfigLoader.Load(path, CliOptions.ListenEnvironment(listen));
            foreach (var warning in config.Warnings) await Console.Error.WriteLineAsync($"pluginhost: {path}: {warning}").ConfigureAwait(false);
        }
        catch (ConfigException e)
        {
            // Sink settings are checked too (with the plugins loaded), so that every problem is listed at once.
            await Console.Error.WriteLineAsync($"pluginhost: {path}: {new ConfigException(await ConfigProblems.AllAsync(e).ConfigureAwait(false)).Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        using var stop = new CancellationTokenSource();
        if (seconds > 0) stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        return await RunHostAsync(config, sinks, null, stop.Token).ConfigureAwait(false);
    }

    /// <summary>Starts compiling the transforms now that their helpers are loaded; the pipelines take the builds when they start.</summary>
    private static void PrecompileTransforms(HostConfig config, Scripting.IHelperAssemblySource helpers)
    {
        foreach (var p in config.Pipelines)
        {
            if (p.TransformPath is not { } path || !p.Options.Enabled || !path.EndsWith(".csx", StringComparison.OrdinalIgnoreCase)) continue;
            try
            {
                Scripting.ScriptCompiler.Precompile(path, File.ReadAllText(config.ResolveTransform(path)), helpers.Current,
                    Scripting.CompiledScriptCache.ForStateDirectory(config.StateDirectory));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // the pipeline reports an unreadable script itself
            }
        }
    }

    /// <summary>Builds and runs the host for a validated configuration.</summary>
    public static async Task<int> RunHostAsync(HostConfig config, Plugins.SinkCatalog sinks,
        Action<PipelineManager>? configure, CancellationToken cancellationToken = default)
    {
        // A WebApplication serving the REST API, health, metrics and dashboard when server.enabled (see Hosting/PluginHostBuilder and Api/ApiServer),
        // running the configuration's pipelines overlaid with those the API created or changed.
        IHost built;
        try
        {
            built = PluginHostBuilder.Build(config, sinks);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"pluginhost: {config.FilePath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        using var host = built;
        // Plugins first: pipelines need their sink types, and sink settings can only be validated once they are known.
        // A host that needs none of them to start (no API to list them) loads them beside its pipelines' start.
        var plugins = host.Services.GetRequiredService<Plugins.PluginManager>();
        if (PluginsNeededToStart(host.Services.GetRequiredService<HostConfig>(), sinks))
        {
            await plugins.LoadAllAsync(cancellationToken).ConfigureAwait(false);
            PrecompileTransforms(config, plugins);
        }
        else plugins.BeginLoadAll(cancellationToken);
        try
        {
            ValidateSinks(config, sinks);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"pluginhost: {config.FilePath}: {e.Message}").ConfigureAwait(false);
            foreach (var failed in plugins.Plugins.Where(p => p.State == Plugins.PluginState.Failed))
                await Console.Error.WriteLineAsync($"pluginhost: plugin {failed.Name} did not load: {failed.Error}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        configure?.Invoke(host.Services.GetRequiredService<PipelineManager>());
        try
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (ListenFailure.Describe(e, config.Options.Server.Listen) is { } why)
        {
            // An operator's mistake (port taken, not allowed): one plain line, no stack trace.
            await Console.Error.WriteLineAsync($"pluginhost: {config.FilePath}: server.listen: {why}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Whether the host must load its plugins before it starts: it serves the API (which lists them), runs a cluster
    /// node, or one of its pipelines (<paramref name="effective"/>: the file's and the API's) has a transform (which
    /// may call their helper functions), or a sink or checkpoint store type that is not built in.
    /// </summary>
    internal static bool PluginsNeededToStart(HostConfig effective, Plugins.SinkCatalog sinks) =>
        effective.Options.Server.Enabled || effective.Options.Cluster != null ||
        effective.Pipelines.Any(p => p.TransformPath != null || p.TransformRules != null || sinks.Find(p.SinkType) is null ||
                                     !p.Options.Checkpoint.Type.Equals("file", StringComparison.Ordinal));

    /// <summary>Creates each pipeline's sink once (then disposes it) so bad sink settings are reported at start, all together.</summary>
    public static void ValidateSinks(HostConfig config, Plugins.SinkCatalog sinks, Checkpoints.CheckpointStoreCatalog? checkpoints = null)
    {
        var errors = new List<ConfigError>();
        // Checkpoint stores: file, or one a plugin provides (e.g. kafka); unknown types and bad settings are reported here.
        (checkpoints ?? new Checkpoints.CheckpointStoreCatalog(sinks)).Validate(config, errors);
        foreach (var p in config.Pipelines)
        {
            try
            {
                var sink = PipelineService.CreateSink(p, config, sinks, NullLoggerFactory.Instance);
                sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (SinkConfigurationException e)
            {
                errors.Add(new ConfigError(config.FilePath, p.Name, "sink." + e.Key, e.Message[(e.Key.Length + 2)..]));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // e.g. the file sink cannot create its directory: still a configuration problem, reported with the others.
                errors.Add(new ConfigError(config.FilePath, p.Name, "sink", e.Message));
            }
        }
        if (errors.Count > 0) throw new ConfigException(errors);
    }
}
