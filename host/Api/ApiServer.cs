using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using PluginHost.Cluster;
using PluginHost.Config;
using PluginHost.Control;

namespace PluginHost.Api;

/// <summary>
/// The HTTP side of the host with <c>server.enabled</c>: the REST API, health, metrics and dashboard on
/// <c>server.listen</c>, with the admin-token and loopback checks. The composition root (<c>Hosting/</c>) calls it in
/// order: <see cref="For"/>, <see cref="AddLogging"/>, <see cref="AddServices"/>, then <see cref="Map"/> on the built app.
/// </summary>
internal sealed class ApiServer
{
    /// <summary>Largest request body accepted (a pipeline definition is a few KB).</summary>
    public const long MaxBodyBytes = 1 << 20;

    private readonly HostConfig _config;
    private readonly ListenAddress _listen;
    private readonly bool _tokenSet;
    private readonly QuietStartFailure _quietStart = new();
    private AdminToken? _token;
    private AdminAuth? _auth;

    private ApiServer(HostConfig config, ListenAddress listen, bool tokenSet)
    {
        _config = config;
        _listen = listen;
        _tokenSet = tokenSet;
    }

    /// <summary>
    /// The server for a configuration. Throws <see cref="ConfigException"/> when it may not listen where configured
    /// (not loopback and no <c>server.admin_token</c>).
    /// </summary>
    public static ApiServer For(HostConfig config)
    {
        var server = config.Options.Server;
        var listen = ListenAddress.Parse(server.Listen);
        var tokenSet = !string.IsNullOrEmpty(server.AdminToken); // set by the operator (a generated one keeps the API on loopback)
        if (!listen.IsLoopback && !tokenSet)
            throw new ConfigException([new ConfigError(config.FilePath, null, "server.admin_token",
                $"is required to listen on {server.Listen} (not a loopback address): without a token the API refuses to listen anywhere but " +
                "127.0.0.1, ::1 or localhost. Set server.admin_token (e.g. ${PLUGINHOST_ADMIN_TOKEN}), listen on 127.0.0.1, or set server.enabled: false")]);
        return new ApiServer(config, listen, tokenSet);
    }

    /// <summary>Keeps the generic host's start failure quiet until it started (after the host's console logging).</summary>
    public void AddLogging(ILoggingBuilder logging) =>
        _quietStart.AddTo(logging, _config.Options.Log.Level.Equals("error", StringComparison.OrdinalIgnoreCase) ? LogLevel.Error : LogLevel.Warning);

    /// <summary>The admin token, problem details, JSON, OpenAPI and Kestrel's listen address and limits.</summary>
    public void AddServices(WebApplicationBuilder web)
    {
        _token = AdminToken.For(_config);
        _auth = new AdminAuth(_token.Value);
        web.Services.AddSingleton(_auth);
        web.Services.AddSingleton<ClusterPipelines>();
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
            if (_listen.Localhost) k.ListenLocalhost(_listen.Port);
            else k.Listen(_listen.Address!, _listen.Port);
        });
    }

    /// <summary>Middleware (errors as problem details, the loopback-name check without a token), the endpoints, the listening line.</summary>
    public void Map(WebApplication app)
    {
        var token = _token ?? throw new InvalidOperationException($"{nameof(AddServices)} first");
        app.Lifetime.ApplicationStarted.Register(_quietStart.Started);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (!_tokenSet)
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
        app.MapPluginHostApi(_auth!);
        app.MapClusterApi();
        if (app.Services.GetService<ClusterNode>() is { } node)
        {
            var cluster = app.Services.GetRequiredService<ClusterPipelines>();
            node.Statuses = cluster.Statuses;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PluginHost.Api");
        var tokenSet = _tokenSet;
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
