using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Api;
using PluginHost.Checkpoints;
using PluginHost.Cluster;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Pipelines;
using PluginHost.Plugins;

namespace PluginHost.Hosting;

/// <summary>
/// The composition root: builds the host process. With <c>server.enabled</c> (the default) a <see cref="WebApplication"/>
/// serving the REST API, health, metrics and dashboard (<see cref="ApiServer"/>) beside the pipelines; otherwise a plain
/// generic host. Either way the pipelines run are the configuration file's overlaid with what the API changed
/// (<c>state_dir/api-pipelines.yaml</c>, see <see cref="PipelineControl"/>).
/// </summary>
internal static class PluginHostBuilder
{
    /// <summary>
    /// Builds the host for a validated configuration. Throws <see cref="ConfigException"/> when the server may not
    /// listen where configured (not loopback and no <c>server.admin_token</c>) or the API's saved state is unreadable.
    /// </summary>
    /// <param name="configure">Last adjustments (tests add a log capture).</param>
    public static IHost Build(HostConfig config, SinkCatalog sinks, Action<IHostApplicationBuilder>? configure = null)
    {
        var prepared = PipelineControl.Prepare(config);
        if (!config.Options.Server.Enabled)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = HostArgs });
            builder.Logging.AddPluginHostLogging(config.Options.Log);
            AddControl(builder.Services, prepared);
            builder.Services.AddPluginHost(prepared.Effective, sinks);
            AddCluster(builder.Services, config);
            configure?.Invoke(builder);
            return builder.Build();
        }

        var api = ApiServer.For(config);
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = HostArgs, ApplicationName = "pluginhost" });
        web.Logging.AddPluginHostLogging(config.Options.Log);
        api.AddLogging(web.Logging);
        AddControl(web.Services, prepared);
        web.Services.AddPluginHost(prepared.Effective, sinks);
        AddCluster(web.Services, config);
        api.AddServices(web);
        configure?.Invoke(web);

        var app = web.Build();
        api.Map(app);
        return app;
    }

    /// <summary>
    /// The framework's host settings: its optional <c>appsettings.json</c> in the working directory is read once, not
    /// watched. Watching it meant watching the whole working directory tree (an inotify watch per folder: about 200
    /// folders and 15 ms of a start from a source checkout, thousands started from a home or root folder).
    /// </summary>
    private static readonly string[] HostArgs = ["--hostBuilder:reloadConfigOnChange=false"];

    /// <summary>
    /// Cluster mode (<c>cluster:</c>): no pipeline starts with the host; the node, registered after the pipelines (so it
    /// starts once plugins are loaded and stops first, leaving the group), runs those the group assigns it.
    /// </summary>
    private static void AddCluster(IServiceCollection services, HostConfig config)
    {
        if (config.Options.Cluster is not { } cluster) return;
        services.AddSingleton(sp => new ClusterNode(cluster, sp.GetRequiredService<PipelineControl>(), sp.GetRequiredService<SinkCatalog>(),
            sp.GetRequiredService<CheckpointStoreCatalog>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(sp =>
        {
            sp.GetRequiredService<PipelineManager>().DeferStart = true;
            return sp.GetRequiredService<ClusterNode>();
        });
    }

    /// <summary>
    /// Registered before the pipelines so that the metrics listener exists before the first event is delivered, and
    /// (hosted services stop in reverse order) the state log still notes the pipelines stopping at shutdown.
    /// </summary>
    private static void AddControl(IServiceCollection services, PipelineControl.Prepared prepared)
    {
        services.AddSingleton(sp => new PipelineControl(prepared, sp.GetRequiredService<PipelineManager>(), sp.GetRequiredService<SinkCatalog>(),
            sp.GetRequiredService<ICheckpointStore>(), sp.GetRequiredService<CheckpointStoreCatalog>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<PipelineControl>());
        services.AddSingleton(sp => new HostTelemetry(sp.GetRequiredService<PipelineControl>(), sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<PluginManager>(), sp.GetService<YoungGenerationBudget>()));
        services.AddHostedService(sp => sp.GetRequiredService<HostTelemetry>());
    }
}
