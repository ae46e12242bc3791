using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Pipelines;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary>
/// Builds the host process: with <c>server.enabled</c> (the default) a <see cref="WebApplication"/> serving the REST API,
/// health, metrics and dashboard on <c>server.listen</c> beside the pipelines; otherwise a plain generic host. Either
/// way the pipelines run are the configuration file's overlaid with what the API changed
/// (<c>state_dir/api-pipelines.yaml</c>, see <see cref="PipelineControl"/>).
/// </summary>
public static class ApiHost
{
    /// <summary>Largest request body accepted (a pipeline definition is a few KB).</summary>
    public const long MaxBodyBytes = 1 << 20;

    /// <summary>
    /// Builds the host for a validated configuration. Throws <see cref="ConfigException"/> when the server may not
    /// listen where configured (not loopback and no <c>server.admin_token</c>) or the API's saved state is unreadable.
    /// </summary>
    /// <param name="configure">Last adjustments (tests add a log capture).</param>
    public static IHost Build(HostConfig config, SinkCatalog sinks, Action<IHostApplicationBuilder>? configure = null)
    {
        var prepared = PipelineControl.Prepare(config);
        var server = config.Options.Server;
        if (!server.Enabled)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.AddPluginHostLogging(config.Options.Log);
            AddControl(builder.Services, prepared);
            builder.Services.AddPluginHost(prepared.Effective, sinks);
            configure?.Invoke(builder);
            return builder.Build();
        }

        var listen = ListenAddress.Parse(server.Listen);
        var tokenSet = !string.IsNullOrEmpty(server.AdminToken); // set by the operator (a generated one keeps the API on loopback)
        if (!listen.IsLoopback && !tokenSet)
            throw new ConfigException([new ConfigError(config.FilePath, null, "server.admin_token",
                $"is required to listen on {server.Listen} (not a loopback address): without a token the API refuses to listen anywhere but " +
                "127.0.0.1, ::1 or localhost. Set server.admin_token (e.g. ${PLUGINHOST_ADMIN_TOKEN}), listen on 127.0.0.1, or set server.enabled: false")]);

        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "pluginhost" });
        web.Logging.AddPluginHostLogging(config.Options.Log);
        var quietStart = new QuietStartFailure();
        quietStart.AddTo(web.Logging, config.Options.Log.Level.Equals("error", StringComparison.OrdinalIgnoreCase) ? LogLevel.Error : LogLevel.Warning);
        AddControl(web.Services, prepared);
        web.Services.AddPluginHost(prepared.Effective, sinks);
        var token = AdminToken.For(config);
        var auth = new AdminAuth(token.Value);
        web.Services.AddSingleton(auth);
        web.Services.AddProblemDetails();
        web.Services.ConfigureHttpJsonOptions(o => ControlJson.Configure(o.SerializerOptions));
        web.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info = new OpenApiInfo
                {
                    Title = "PluginHost",
                    Version = ApiModels.Version,
                    Description = "Manage the change-data-capture pipelines of a running pluginhost. Mutating endpoints need " +
                                  "Authorization: Bearer <server.admin_token>. Errors are RFC 7807 problem details.",
                };
                doc.Components ??= new OpenApiComponents();
                doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                doc.Components.SecuritySchemes["admin_token"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "server.admin_token (needed by every endpoint that changes something)",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.HttpMethod is not ("GET" or "HEAD"))
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("admin_token", context.Document)] = [] }];
                return Task.CompletedTask;
            });
        });
        web.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        web.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            if (listen.Localhost) k.ListenLocalhost(listen.Port);
            else k.Listen(listen.Address!, listen.Port);
        });
        configure?.Invoke(web);

        var app = web.Build();
        app.Lifetime.ApplicationStarted.Register(quietStart.Started);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (!tokenSet)
            app.Use(async (http, next) =>
            {
                // Without a token only local clients may talk to us, by a local name (a rebinding DNS name is refused).
                if (!AdminAuth.IsLoopbackHost(http.Request.Host))
                {
                    await Results.Problem($"Host '{http.Request.Host}' is refused: without server.admin_token the API serves loopback names only",
                        statusCode: StatusCodes.Status403Forbidden, title: "Forbidden").ExecuteAsync(http).ConfigureAwait(false);
                    return;
                }
                await next(http).ConfigureAwait(false);
            });
        app.MapPluginHostApi(auth);

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PluginHost.Api");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            if (tokenSet)
                logger.Listening(urls);
            else if (token.Generated)
                logger.ListeningWithGeneratedToken(urls, token.FilePath);
            else if (token.Value != null)
                logger.ListeningWithTokenFile(urls, token.FilePath);
            else
                logger.ListeningUnauthenticated(urls);
        });
        return app;
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
            sp.GetService<PluginManager>()));
        services.AddHostedService(sp => sp.GetRequiredService<HostTelemetry>());
    }

    /// <summary><c>server.listen</c>: <c>host:port</c> with an IP address or <c>localhost</c>.</summary>
    internal sealed record ListenAddress(IPAddress? Address, int Port, bool Localhost)
    {
        public bool IsLoopback => Localhost || IPAddress.IsLoopback(Address!);

        public static ListenAddress Parse(string listen)
        {
            if (listen.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) && int.TryParse(listen["localhost:".Length..], out var port))
                return new ListenAddress(null, port, true);
            if (IPEndPoint.TryParse(listen, out var ep)) return new ListenAddress(ep.Address, ep.Port, false);
            throw new ConfigException([new ConfigError("(config)", null, "server.listen", $"'{listen}' is not host:port")]);
        }
    }
}
