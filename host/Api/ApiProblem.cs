using Microsoft.AspNetCore.Http;
using PluginHost.Control;

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

    /// <summary>The one place a control-plane refusal becomes an HTTP status (with the pipeline named for a 404).</summary>
    public static ApiProblemException From(ControlException e)
    {
        var status = e.Kind switch
        {
            ControlErrorKind.NotFound => StatusCodes.Status404NotFound,
            ControlErrorKind.Conflict => StatusCodes.Status409Conflict,
            ControlErrorKind.Invalid => StatusCodes.Status400BadRequest,
            ControlErrorKind.Unavailable => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status500InternalServerError,
        };
        var problem = new ApiProblemException(status, e.Title, e.Detail, e.Errors);
        if (e.Pipeline != null) problem.Extensions["pipeline"] = e.Pipeline;
        return problem;
    }

    /// <summary>A request body the API cannot read as a pipeline.</summary>
    public static ApiProblemException Invalid(string detail, IDictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, "Invalid pipeline", detail, errors);

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
