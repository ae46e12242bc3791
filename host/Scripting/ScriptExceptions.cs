namespace PluginHost.Scripting;

/// <summary>A transform script threw; the message names the script line (<c>… (at transforms/x.csx:line 12)</c>).</summary>
internal sealed class ScriptException(string message, Exception inner, string? script = null, int? line = null) : Exception(message, inner)
{
    /// <summary>The script file where it threw (its innermost frame in the script), when known.</summary>
    public string? Script { get; } = script;

    /// <summary>The line of <see cref="Script"/>, when known.</summary>
    public int? Line { get; } = line;
}

/// <summary>An event ran past the pipeline's <c>transform_timeout</c>.</summary>
internal sealed class TransformTimeoutException(string message, string? script = null, int? line = null) : Exception(message)
{
    /// <summary>The script that was stopped.</summary>
    public string? Script { get; } = script;

    /// <summary>The line of the check that stopped it (null when it returned late by itself).</summary>
    public int? Line { get; } = line;
}

/// <summary>A script did not compile (or its top-level code failed); <see cref="Diagnostics"/> says why.</summary>
internal sealed class ScriptCompilationException(IReadOnlyList<ScriptDiagnostic> diagnostics)
    : Exception(ScriptDiagnostic.Format(diagnostics) ?? "the script did not compile")
{
    public IReadOnlyList<ScriptDiagnostic> Diagnostics { get; } = diagnostics;
}
