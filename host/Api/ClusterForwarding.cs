using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginHost.Cluster;
using PluginHost.Control;

namespace PluginHost.Api;

/// <summary>
/// Cluster mode: a call that changes a pipeline (pause, resume, restart, seek, snapshot, delete) arriving at a node
/// that does not run it is forwarded to the node that does (its <c>advertised_url</c>, from the status it publishes),
/// with the caller's <c>Authorization</c> header, as Kafka Connect's workers forward to the leader. The owner checks the
/// token again. The answer is the owner's, with <c>X-PluginHost-Node</c> naming the node that acted (every answer of a
/// node in cluster mode carries it). A forwarded call is never forwarded again. No owner known: 503 with Retry-After.
/// </summary>
internal sealed class ClusterForwarding : IEndpointFilter
{
    public const string NodeHeader = "X-PluginHost-Node";
    public const string ForwardedHeader = "X-PluginHost-Forwarded-By";

    /// <summary>How long the owner may take (a pause drains the pipeline and writes its checkpoint).</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3), AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.RequestServices.GetService<ClusterNode>() is not { } node) return await next(context).ConfigureAwait(false);
        var self = node.Options.EffectiveNodeId;
        var name = http.Request.RouteValues["name"] as string ?? "";
        var entry = http.RequestServices.GetRequiredService<PipelineControl>().Find(name);
        if (entry is null || entry.Entry.Definition is null || node.RunsHere(name))
        {
            http.Response.Headers[NodeHeader] = self;
            return await next(context).ConfigureAwait(false);
        }
        var forwardedBy = http.Request.Headers[ForwardedHeader].ToString();
        var owner = node.Board?.Find(name);
        if (forwardedBy.Length > 0 || owner?.Url is not { Length: > 0 } url)
        {
            http.Response.Headers.RetryAfter = "2";
            var why = forwardedBy.Length > 0
                ? $"node '{self}' does not run pipeline '{name}' (any more): forwarded by '{forwardedBy}', it is not forwarded again"
                : owner is null
                    ? $"no node of cluster '{node.Options.Name}' reported running pipeline '{name}' lately (it is moving, or its node is down): try again"
                    : $"node '{owner.Node}' runs pipeline '{name}' but has no cluster.advertised_url to forward to: call that node";
            return TypedResults.Problem(why, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Runs on no reachable node",
                extensions: new Dictionary<string, object?> { ["pipeline"] = name, ["node"] = owner?.Node });
        }
        return await ForwardAsync(http, node, owner, url).ConfigureAwait(false);
    }

    private static async Task<IResult> ForwardAsync(HttpContext http, ClusterNode node, PipelineReport owner, string url)
    {
        var self = node.Options.EffectiveNodeId;
        var target = new Uri(new Uri(url.TrimEnd('/') + "/"), http.Request.Path.Value!.TrimStart('/') + http.Request.QueryString.Value);
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), target);
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await RequestBody.ReadTextAsync(http.Request).ConfigureAwait(false);
            request.Content = new StringContent(body);
            if (http.Request.ContentType is { } type) request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
        }
        if (http.Request.Headers.Authorization.ToString() is { Length: > 0 } auth) request.Headers.TryAddWithoutValidation("Authorization", auth);
        request.Headers.TryAddWithoutValidation(ForwardedHeader, self);
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("PluginHost.Cluster");
        try
        {
            using var response = await Http.SendAsync(request, http.RequestAborted).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
            logger.Forwarded(http.Request.Method, http.Request.Path, owner.Node, url, (int)response.StatusCode);
            var contentType = response.Content.Headers.ContentType?.ToString();
            var node2 = response.Headers.TryGetValues(NodeHeader, out var v) ? string.Join(",", v) : owner.Node;
            var location = response.Headers.Location?.ToString();
            var retryAfter = response.Headers.RetryAfter?.ToString();
            var authenticate = response.Headers.WwwAuthenticate.ToString();
            return new Relayed((int)response.StatusCode, contentType, bytes, node2, location, retryAfter, authenticate);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            return TypedResults.Problem($"pipeline '{owner.Pipeline}' runs on node '{owner.Node}', which did not answer at {url}: {e.Message}",
                statusCode: StatusCodes.Status502BadGateway, title: "Owner unreachable",
                extensions: new Dictionary<string, object?> { ["pipeline"] = owner.Pipeline, ["node"] = owner.Node });
        }
    }

    /// <summary>The owner's answer, passed on.</summary>
    private sealed class Relayed(int status, string? contentType, byte[] body, string node, string? location, string? retryAfter, string authenticate) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.Headers[NodeHeader] = node;
            if (contentType != null) http.Response.ContentType = contentType;
            if (location != null) http.Response.Headers.Location = location;
            if (retryAfter != null) http.Response.Headers.RetryAfter = retryAfter;
            if (authenticate.Length > 0) http.Response.Headers.WWWAuthenticate = authenticate;
            if (body.Length > 0) await http.Response.Body.WriteAsync(body).ConfigureAwait(false);
        }
    }
}
