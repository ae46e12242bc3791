using Microsoft.AspNetCore.Http;
using PluginHost.Config;

namespace PluginHost.Api;

/// <summary>A request the API refuses, as an RFC 7807 problem (with <c>errors</c> keyed by the field at fault for 400s).</summary>
internal sealed class ApiProblemException(int status, string title, string? detail = null, IDictionary<string, string[]>? errors = null)
    : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public IDictionary<string, string[]>? Errors { get; } = errors;
    public Dictionary<string, object?> Extensions { get; } = [];

    public IResult ToResult()
    {
        if (Errors is { Count: > 0 })
            return TypedResults.ValidationProblem(Errors, Detail, title: Title, type: TypeOf(Status), extensions: Extensions);
        return TypedResults.Problem(Detail, statusCode: Status, title: Title, type: TypeOf(Status), extensions: Extensions);
    }

    public static ApiProblemException NotFound(string name) =>
        new(StatusCodes.Status404NotFound, "Unknown pipeline", $"no pipeline named '{name}'") { Extensions = { ["pipeline"] = name } };

    public static ApiProblemException Invalid(string detail, IDictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, "Invalid pipeline", detail, errors);

    public static ApiProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);

    /// <summary>Config errors keyed by field (<c>source.port</c>; with <paramref name="pipelinePrefix"/>, <c>pipelines.NAME.source.port</c>).</summary>
    public static Dictionary<string, string[]> ErrorsOf(IEnumerable<ConfigError> errors, bool pipelinePrefix, IReadOnlyList<string> secrets) =>
        errors.GroupBy(e => pipelinePrefix && e.Pipeline is not null ? $"pipelines.{e.Pipeline}.{e.Key}" : e.Key)
            .ToDictionary(g => g.Key, g => g.Select(e => Secrets.Scrub(e.Message, secrets)!).ToArray());

    private static string TypeOf(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        502 => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => "about:blank",
    };
}
