using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>Why the control plane refused an operation (the API maps each kind to its status code).</summary>
internal enum ControlErrorKind
{
    /// <summary>No pipeline of that name.</summary>
    NotFound,

    /// <summary>The pipeline's state does not allow it (a name taken, disabled, not valid).</summary>
    Conflict,

    /// <summary>The input is wrong; <see cref="ControlException.Errors"/> names the fields.</summary>
    Invalid,

    /// <summary>Something the operation needs outside the host (source server, checkpoint store) cannot be reached.</summary>
    Unavailable,

    /// <summary>The operation failed inside the host (nothing changed).</summary>
    Failed,
}

/// <summary>A refused control-plane operation: nothing changed. <see cref="Title"/> is a short summary, <see cref="Detail"/> the sentence.</summary>
internal sealed class ControlException(ControlErrorKind kind, string title, string detail, IDictionary<string, string[]>? errors = null)
    : Exception(detail)
{
    public ControlErrorKind Kind { get; } = kind;
    public string Title { get; } = title;
    public string Detail { get; } = detail;

    /// <summary>Messages keyed by the field at fault (for <see cref="ControlErrorKind.Invalid"/>).</summary>
    public IDictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>The pipeline not found (for <see cref="ControlErrorKind.NotFound"/>).</summary>
    public string? Pipeline { get; private init; }

    public static ControlException NotFound(string name) =>
        new(ControlErrorKind.NotFound, "Unknown pipeline", $"no pipeline named '{name}'") { Pipeline = name };

    public static ControlException Conflict(string detail) => new(ControlErrorKind.Conflict, "Conflict", detail);

    /// <summary>An invalid pipeline definition (<paramref name="errors"/> keyed by field).</summary>
    public static ControlException Invalid(string detail, IDictionary<string, string[]> errors) =>
        new(ControlErrorKind.Invalid, "Invalid pipeline", detail, errors);

    /// <summary>Config errors keyed by field (<c>source.port</c>; with <paramref name="pipelinePrefix"/>, <c>pipelines.NAME.source.port</c>), secrets scrubbed.</summary>
    public static Dictionary<string, string[]> ErrorsOf(IEnumerable<ConfigError> errors, bool pipelinePrefix, IReadOnlyList<string> secrets) =>
        errors.GroupBy(e => pipelinePrefix && e.Pipeline is not null ? $"pipelines.{e.Pipeline}.{e.Key}" : e.Key)
            .ToDictionary(g => g.Key, g => g.Select(e => Secrets.Scrub(e.Message, secrets)!).ToArray());
}
