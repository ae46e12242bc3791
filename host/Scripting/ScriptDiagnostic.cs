namespace PluginHost.Scripting;

/// <summary>
/// One compiler message about a transform script, positioned in the script file as the user wrote it (1-based line
/// and column, honouring <c>#line</c>). <see cref="ToString"/> gives the compiler's usual form:
/// <c>transforms/x.csx(12,9): error CS0103: The name 'foo' does not exist in the current context</c>.
/// </summary>
/// <param name="Path">The script as the user named it (e.g. the path in the pipeline's <c>transform:</c>).</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Severity"><c>error</c> or <c>warning</c>.</param>
/// <param name="Id">The compiler's id (<c>CS0103</c>) or ours (<c>PH0001</c>…, see <see cref="ScriptCompiler"/>).</param>
/// <param name="Message">The message.</param>
internal sealed record ScriptDiagnostic(string Path, int Line, int Column, string Severity, string Id, string Message)
{
    public bool IsError => Severity == "error";

    public override string ToString() => $"{Path}({Line},{Column}): {Severity} {Id}: {Message}";

    /// <summary>Diagnostics one per line, errors first (for logs and <c>PipelineStatus.TransformDiagnostics</c>).</summary>
    public static string? Format(IEnumerable<ScriptDiagnostic> diagnostics)
    {
        var lines = diagnostics.OrderBy(d => d.IsError ? 0 : 1).ThenBy(d => d.Line).ThenBy(d => d.Column).Select(d => d.ToString()).ToList();
        return lines.Count == 0 ? null : string.Join('\n', lines);
    }
}
