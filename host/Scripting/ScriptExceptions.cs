namespace PluginHost.Scripting;

/// <summary>A transform script threw; the message names the script line (<c>… (at transforms/x.csx:line 12)</c>).</summary>
public sealed class ScriptException(string message, Exception inner) : Exception(message, inner);

/// <summary>An event ran past the pipeline's <c>transform_timeout</c>.</summary>
public sealed class TransformTimeoutException(string message) : Exception(message);

/// <summary>A script did not compile (or its top-level code failed); <see cref="Diagnostics"/> says why.</summary>
public sealed class ScriptCompilationException(IReadOnlyList<ScriptDiagnostic> diagnostics)
    : Exception(ScriptDiagnostic.Format(diagnostics) ?? "the script did not compile")
{
    public IReadOnlyList<ScriptDiagnostic> Diagnostics { get; } = diagnostics;
}
