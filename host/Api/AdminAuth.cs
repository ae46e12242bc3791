using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PluginHost.Api;

/// <summary>
/// Guards the mutating endpoints. With <c>server.admin_token</c> set, a request needs <c>Authorization: Bearer TOKEN</c>
/// (compared in constant time: both sides are hashed to 32 bytes first, so neither length nor content leaks through
/// timing) or gets 401. Without a token the API only listens on loopback (see <see cref="ApiServer"/>) and mutating
/// requests are open to local clients. Either way a browser request from another site (an <c>Origin</c> that is not
/// this server) is refused with 403, so a web page cannot drive the API through a local browser.
/// </summary>
internal sealed class AdminAuth(string? token) : IEndpointFilter
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool TokenRequired => _expected != null;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (CrossSite(http.Request) is { } origin)
            return TypedResults.Problem($"requests from {origin} are refused: the API takes changes from its own pages and from non-browser clients",
                statusCode: StatusCodes.Status403Forbidden, title: "Cross-site request refused");
        if (_expected is null || Authorized(http.Request.Headers.Authorization.ToString())) return await next(context).ConfigureAwait(false);
        var presented = http.Request.Headers.Authorization.Count > 0;
        http.Response.Headers.WWWAuthenticate = presented
            ? "Bearer realm=\"pluginhost\", error=\"invalid_token\""
            : "Bearer realm=\"pluginhost\"";
        return TypedResults.Problem(presented
                ? "the bearer token is not the admin token (server.admin_token)"
                : "this endpoint changes the host: send Authorization: Bearer <server.admin_token>",
            statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", type: "https://tools.ietf.org/html/rfc9110#section-15.5.2");
    }

    public bool Authorized(string header)
    {
        if (_expected is null) return true;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _expected);
    }

    /// <summary>The Origin of a browser request from another site, or null.</summary>
    private static string? CrossSite(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return null;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var o)) return origin;
        var self = $"{request.Scheme}://{request.Host.Value}";
        return string.Equals(o.GetLeftPart(UriPartial.Authority), self, StringComparison.OrdinalIgnoreCase) ? null : origin;
    }

    /// <summary>Without a token: only loopback Host names are served (defeats DNS rebinding onto the open local API).</summary>
    public static bool IsLoopbackHost(HostString host)
    {
        var name = host.Host;
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(name.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }
}
