using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sinks;

namespace PluginHost.Hosting;

/// <summary>Registers the host's services: configuration snapshot, sink catalog, checkpoint store, pipelines.</summary>
internal static class PluginHostServiceCollectionExtensions
{
    /// <summary>A sink catalog with the built-in sinks registered.</summary>
    public static SinkCatalog CreateSinkCatalog()
    {
        var catalog = new SinkCatalog();
        catalog.Register(new FileSinkFactory(), "built-in");
        return catalog;
    }

    public static IServiceCollection AddPluginHost(this IServiceCollection services, HostConfig config, SinkCatalog sinks)
    {
        services.AddSingleton(config);
        services.AddSingleton(sinks);
        services.AddSingleton(new YoungGenerationBudget(config.Options.Memory.Gen0Budget)); // shared by the pipelines' writers
        services.AddSingleton<ICheckpointStore>(_ => new FileCheckpointStore(config.StateDirectory));
        // Per-pipeline checkpoint stores (checkpoint.type): file (the store above) or one a sink plugin provides.
        services.TryAddSingleton(_ => new CheckpointStoreCatalog(sinks));
        // Plugins before pipelines: hosted services start in registration order, and pipelines need their sink types.
        // The plugin layer knows the pipelines only as ISinkVersionConsumers, attached here (the pipelines depend on
        // the plugins' helper assemblies, so the plugins cannot take them in their constructor).
        services.AddSingleton(sp => new PluginManager(new PluginManagerOptions { Directory = config.PluginsDirectory }, sinks,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IHelperAssemblySource>(sp => sp.GetRequiredService<PluginManager>());
        services.AddHostedService(sp =>
        {
            var plugins = sp.GetRequiredService<PluginManager>();
            plugins.Attach(sp.GetRequiredService<ISinkVersionConsumers>());
            return plugins;
        });
        services.AddSingleton<PipelineManager>();
        services.AddSingleton<ISinkVersionConsumers>(sp => sp.GetRequiredService<PipelineManager>());
        services.AddHostedService(sp => sp.GetRequiredService<PipelineManager>());
        services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
        return services;
    }

    /// <summary>Console logging per <c>log:</c> (text or json), every line on stderr so stdout stays for data.</summary>
    public static ILoggingBuilder AddPluginHostLogging(this ILoggingBuilder logging, LogOptions options)
    {
        logging.ClearProviders();
        var level = options.Level.ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", (LogLevel)Math.Max((int)level, (int)LogLevel.Warning));
        // The framework's start and stop lines show at info, but never below the chosen level (warn hides them).
        logging.AddFilter("Microsoft.Hosting.Lifetime", (LogLevel)Math.Max((int)level, (int)LogLevel.Information));
        if (options.Format.Equals("json", StringComparison.OrdinalIgnoreCase))
            logging.AddJsonConsole(o =>
            {
                // The JSON property holds just the time: UTC, ISO 8601 with a literal Z (no trailing space).
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        else
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return logging;
    }
}
