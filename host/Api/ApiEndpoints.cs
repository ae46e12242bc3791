using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PluginHost.Control;
using PluginHost.Plugins;

namespace PluginHost.Api;

/// <summary>The REST API, health, metrics and dashboard routes (ASP.NET Core minimal APIs).</summary>
internal static class ApiEndpoints
{
    public static void MapPluginHostApi(this WebApplication app, AdminAuth auth)
    {
        // ---- dashboard, health, metrics (read-only, no token)
        app.MapGet("/", (HttpContext http) =>
            {
                // Its buttons change things: no framing by other sites (clickjacking), nothing loaded from elsewhere.
                var h = http.Response.Headers;
                h.ContentSecurityPolicy = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";
                h.XFrameOptions = "DENY";
                h.XContentTypeOptions = "nosniff";
                h["Referrer-Policy"] = "no-referrer";
                h.CacheControl = "no-cache";
                return Results.Content(Dashboard.Html, "text/html; charset=utf-8");
            })
            .ExcludeFromDescription();
        app.MapGet("/stream", StreamAsync)
            .WithSummary("The dashboard's live feed: server-sent events, one DashboardSnapshot (JSON) a second")
            .Produces<DashboardSnapshot>(200, "text/event-stream").WithTags("dashboard");

        app.MapGet("/history", (HostTelemetry telemetry) => TypedResults.Ok(telemetry.RecentHistory()))
            .WithSummary("Each pipeline's events/s and lag, one point a second for the last 15 minutes (the dashboard's charts start from it)").WithTags("dashboard");
        app.MapGet("/health", (PipelineControl control, HostTelemetry telemetry, ClusterPipelines cluster) =>
            {
                var health = HealthReports.Health(control, telemetry, s => cluster.Elsewhere(s), cluster.Self);
                return Results.Json(health, ApiJson.Options, statusCode: health.Status == "DOWN" ? 503 : 200);
            })
            .WithSummary("Host health (pikachu's shape) with one entry per pipeline (in cluster mode every pipeline of the cluster, with its node); 503 when any pipeline failed")
            .Produces<HealthInfo>(200).Produces<HealthInfo>(503).WithTags("health");
        app.MapGet("/health/live", () => TypedResults.Ok(new ProbeInfo("UP")))
            .WithSummary("Liveness: the process serves requests").WithTags("health");
        app.MapGet("/health/ready", (IHostApplicationLifetime lifetime, PipelineControl control) =>
            {
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                    return Results.Json(new ProbeInfo("DOWN", "stopping"), ApiJson.Options, statusCode: 503);
                if (!lifetime.ApplicationStarted.IsCancellationRequested)
                    return Results.Json(new ProbeInfo("DOWN", "starting"), ApiJson.Options, statusCode: 503);
                if (control.InTransition() is { Count: > 0 } moving)
                    return Results.Json(new ProbeInfo("DOWN", "pipeline(s) starting or stopping: " + string.Join(", ", moving)), ApiJson.Options, statusCode: 503);
                return Results.Json(new ProbeInfo("UP"), ApiJson.Options);
            })
            .WithSummary("Readiness: started (plugins loaded, pipelines launched), no pipeline starting or stopping, and not stopping")
            .Produces<ProbeInfo>(200).Produces<ProbeInfo>(503).WithTags("health");
        app.MapGet("/metrics", (HostTelemetry telemetry) => Results.Text(telemetry.Prometheus(), MetricStore.ContentType))
            .WithSummary("Prometheus text exposition of the PluginHost meter").Produces<string>(200, "text/plain").WithTags("metrics");
        app.MapGet("/metrics.json", (PipelineControl control, HostTelemetry telemetry) => TypedResults.Ok(HealthReports.Metrics(control, telemetry)))
            .WithSummary("Metrics in pikachu's JSON shape").WithTags("metrics");

        app.MapGet("/plugins", (SinkCatalog sinks, IServiceProvider services) =>
            {
                var plugins = services.GetService<PluginManager>();
                var types = sinks.Types.Order(StringComparer.Ordinal).Select(t => new SinkTypeInfo(t, sinks.OriginOf(t))).ToList();
                return TypedResults.Ok(new PluginsInfo(plugins?.Directory ?? "", plugins?.Plugins ?? [], types));
            })
            .WithSummary("Plugins (state, version, sink types, errors) and every sink type with its origin").WithTags("plugins");

        // ---- pipelines: reading
        var read = app.MapGroup("").AddEndpointFilter(Problems).WithTags("pipelines");
        read.MapGet("/pipelines", (ClusterPipelines cluster) => TypedResults.Ok(cluster.List()))
            .WithSummary("Every pipeline: state, position, GTID, lag, counters, last error, transform, sink (cluster mode: every pipeline of the cluster, with its node)");
        read.MapGet("/pipelines/{name}", (string name, PipelineControl control, ClusterPipelines cluster) =>
                TypedResults.Ok(cluster.Show(control.Find(name) ?? throw ControlException.NotFound(name), true)))
            .WithSummary("One pipeline, with its definition (secrets masked)")
            .ProducesProblem(404);
        read.MapGet("/pipelines/{name}/checkpoints", async (string name, PipelineControl control, HttpContext http) =>
                TypedResults.Ok((await control.HistoryAsync(name, http.RequestAborted)).Select(CheckpointHistoryInfo.Of).ToList()))
            .WithSummary("The pipeline's last positions, newest first: saved checkpoints and every position a seek or delete replaced; seek back with {\"checkpoint\": ID}")
            .ProducesProblem(404);

        // ---- pipelines: changing (Authorization: Bearer server.admin_token)
        var admin = app.MapGroup("").AddEndpointFilter(auth).AddEndpointFilter(Problems).WithTags("pipelines")
            .ProducesProblem(401).ProducesProblem(403);
        admin.MapPost("/pipelines", async (HttpRequest request, PipelineControl control, HostTelemetry telemetry, SinkCatalog sinks, IServiceProvider services) =>
            {
                var created = await control.CreateAsync(await PipelineBodyAsync(request), request.HttpContext.RequestAborted);
                return TypedResults.Created($"/pipelines/{Uri.EscapeDataString(created.Name)}",
                    ApiModels.Build(created, telemetry, sinks, services.GetService<PluginManager>(), true));
            })
            .WithRequestBody("A pipeline, exactly as in the configuration file's pipelines list", "application/json", "application/yaml")
            .WithSummary("Creates a pipeline from a JSON or YAML body (validated like the configuration file); it survives restarts")
            .Produces<PipelineInfo>(201).ProducesValidationProblem().ProducesProblem(409).ProducesProblem(415);
        admin.MapPut("/pipelines/{name}", async (string name, HttpRequest request, PipelineControl control, HostTelemetry telemetry, SinkCatalog sinks,
                IServiceProvider services) =>
            {
                var (pipeline, created) = await control.PutAsync(name, await PipelineBodyAsync(request), request.HttpContext.RequestAborted);
                var info = ApiModels.Build(pipeline, telemetry, sinks, services.GetService<PluginManager>(), true);
                return created ? Results.Created($"/pipelines/{Uri.EscapeDataString(name)}", info) : Results.Ok(info);
            })
            .WithRequestBody("A pipeline, exactly as in the configuration file's pipelines list (name optional)", "application/json", "application/yaml")
            .WithSummary("Creates or replaces a pipeline (restarted with the new definition when it changed); it survives restarts")
            .Produces<PipelineInfo>(200).Produces<PipelineInfo>(201).ProducesValidationProblem().ProducesProblem(415);
        admin.MapDelete("/pipelines/{name}", async (string name, bool? forget, PipelineControl control, HttpContext http) =>
            {
                await control.DeleteAsync(name, forget ?? false, http.RequestAborted);
                return TypedResults.NoContent();
            })
            .AddEndpointFilter(Forward)
            .WithSummary("Stops and removes a pipeline; ?forget=true deletes its checkpoint too")
            .ProducesProblem(404);
        admin.MapPost("/pipelines/{name}/pause", Action((c, n, ct) => c.PauseAsync(n, ct)))
            .AddEndpointFilter(Forward)
            .WithSummary("Stops the pipeline gracefully (checkpoint written) and keeps it paused, across restarts too")
            .Produces<PipelineInfo>(200).ProducesProblem(404).ProducesProblem(409);
        admin.MapPost("/pipelines/{name}/resume", Action((c, n, ct) => c.ResumeAsync(n, ct)))
            .AddEndpointFilter(Forward)
            .WithSummary("Starts a paused (or stopped or failed) pipeline from its checkpoint")
            .Produces<PipelineInfo>(200).ProducesProblem(404).ProducesProblem(409);
        admin.MapPost("/pipelines/{name}/restart", Action((c, n, ct) => c.RestartAsync(n, ct)))
            .AddEndpointFilter(Forward)
            .WithSummary("Stops the pipeline gracefully and starts it again from its checkpoint")
            .Produces<PipelineInfo>(200).ProducesProblem(404).ProducesProblem(409);
        admin.MapPost("/pipelines/{name}/seek", async (string name, HttpRequest request, PipelineControl control, HostTelemetry telemetry, SinkCatalog sinks,
                IServiceProvider services) =>
            {
                var target = SeekBody.Read(await BodyAsync(request));
                var moved = await control.SeekAsync(name, target, request.HttpContext.RequestAborted);
                return TypedResults.Ok(ApiModels.Build(moved, telemetry, sinks, services.GetService<PluginManager>(), false));
            })
            .WithRequestBody("\"latest\", \"earliest\", {\"start\": …}, {\"gtid\": …}, {\"file\": …, \"pos\": …} or {\"checkpoint\": ID}", "application/json")
            .AddEndpointFilter(Forward)
            .WithSummary("Moves the pipeline (checked against the server first; the replaced position stays in its history): {\"gtid\": \"0-1-42\"}, " +
                         "{\"file\": \"mysql-bin.000003\", \"pos\": 4}, \"latest\" / {\"start\": \"latest\"}, \"earliest\" or {\"checkpoint\": ID} (from GET …/checkpoints)")
            .Produces<PipelineInfo>(200).ProducesValidationProblem().ProducesProblem(404).ProducesProblem(409).ProducesProblem(502);
        admin.MapPost("/pipelines/{name}/snapshot", async (string name, HttpRequest request, PipelineControl control, HostTelemetry telemetry, SinkCatalog sinks,
                IServiceProvider services) =>
            {
                var (tables, where) = SnapshotBody.Read(await BodyAsync(request));
                var shown = await control.SnapshotAsync(name, tables, where, request.HttpContext.RequestAborted);
                return TypedResults.Accepted($"/pipelines/{Uri.EscapeDataString(name)}", ApiModels.Build(shown, telemetry, sinks, services.GetService<PluginManager>(), false));
            })
            .WithRequestBody("{\"tables\": [\"shop.orders\"], \"where\": \"created_at > '2026-01-01'\"} (where optional)", "application/json")
            .AddEndpointFilter(Forward)
            .WithSummary("Reads tables' existing rows into the running pipeline (op read) without pausing its stream; progress in GET /pipelines/{name}")
            .Produces<PipelineInfo>(202).ProducesValidationProblem().ProducesProblem(404).ProducesProblem(409).ProducesProblem(502);
        admin.MapDelete("/pipelines/{name}/snapshot", Action((c, n, ct) => c.CancelSnapshotAsync(n, ct)))
            .AddEndpointFilter(Forward)
            .WithSummary("Cancels the pipeline's snapshot in progress; its stream goes on")
            .Produces<PipelineInfo>(200).ProducesProblem(404).ProducesProblem(409);
        admin.MapPost("/reload", async (PipelineControl control, HttpContext http) => TypedResults.Ok(await control.ReloadAsync(http.RequestAborted)))
            .WithTags("config")
            .WithSummary("Reads the configuration file again and applies it pipeline by pipeline; an invalid file changes nothing (400)")
            .ProducesValidationProblem();

        app.MapOpenApi("/openapi/{documentName}.json");
    }

    /// <summary>Cluster mode: a call for a pipeline another node runs goes to that node.</summary>
    private static readonly ClusterForwarding Forward = new();

    private static Func<string, PipelineControl, HostTelemetry, SinkCatalog, IServiceProvider, HttpContext, Task<Ok<PipelineInfo>>> Action(
        Func<PipelineControl, string, CancellationToken, Task<PipelineSnapshot>> action) =>
        async (name, control, telemetry, sinks, services, http) =>
            TypedResults.Ok(ApiModels.Build(await action(control, name, http.RequestAborted), telemetry, sinks, services.GetService<PluginManager>(), false));

    /// <summary>Documents a body the handler reads itself (so authorization comes before any parsing, and bad bodies get our problems).</summary>
    private static RouteHandlerBuilder WithRequestBody(this RouteHandlerBuilder builder, string description, params string[] mediaTypes) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = mediaTypes.ToDictionary(m => m, _ => new Microsoft.OpenApi.OpenApiMediaType()),
            };
            return Task.CompletedTask;
        });

    /// <summary>Turns refusals into RFC 7807 problem details.</summary>
    private static async ValueTask<object?> Problems(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ApiProblemException e)
        {
            return e.ToResult();
        }
        catch (ControlException e)
        {
            return ApiProblemException.From(e).ToResult();
        }
        catch (BadHttpRequestException e)
        {
            return TypedResults.Problem(e.Message, statusCode: e.StatusCode, title: e.StatusCode == 413 ? "Body too large" : "Bad request");
        }
    }

    private static Task<string> BodyAsync(HttpRequest request) => RequestBody.ReadTextAsync(request);

    /// <summary>A pipeline sent as JSON or YAML (by Content-Type).</summary>
    private static async Task<System.Text.Json.Nodes.JsonObject> PipelineBodyAsync(HttpRequest request)
    {
        var text = await BodyAsync(request).ConfigureAwait(false);
        return RequestBody.ReadPipeline(text, (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant());
    }

    /// <summary>Server-sent events: a snapshot of every pipeline each second, until the client goes or the host stops.</summary>
    private static async Task StreamAsync(HttpContext http, PipelineControl control, HostTelemetry telemetry, ClusterPipelines cluster, AdminAuth auth,
        IHostApplicationLifetime lifetime)
    {
        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            await http.Response.WriteAsync("retry: 2000\n\n", stop.Token).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                var health = HealthReports.Health(control, telemetry, s => cluster.Elsewhere(s), cluster.Self);
                var snapshot = new DashboardSnapshot(health.Status, health.Version, health.Uptime, auth.TokenRequired, cluster.List());
                await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(snapshot, ApiJson.Options) + "\n\n", stop.Token).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                await Task.Delay(1000, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }
}
