using PluginHost.Config;
using PluginHost.Pipelines;

namespace PluginHost.Api;

/// <summary>A pipeline's transform as <c>GET /pipelines</c> shows it.</summary>
/// <param name="Path">The script as configured; <c>transform.rules</c> for a JavaScript rule chain.</param>
/// <param name="Version">The transform version live in the pipeline.</param>
/// <param name="Diagnostics">Compiler messages of the last compile, one per line (errors first).</param>
/// <param name="Rules">The rules of a JavaScript rule chain, in order (null: a single script).</param>
internal sealed record TransformInfo(string Path, string? Version, string? Diagnostics, IReadOnlyList<TransformRuleInfo>? Rules = null)
{
    /// <summary>The transform of <paramref name="def"/> and its state in <paramref name="st"/> (null: the pipeline has none).</summary>
    public static TransformInfo? Of(PipelineDefinition? def, PipelineStatus st, IReadOnlyList<string> secrets)
    {
        var rules = def?.TransformRules;
        if (def?.TransformPath is null && rules is null && st.TransformVersion is null && st.TransformDiagnostics is null) return null;
        var diagnostics = Secrets.Scrub(st.TransformDiagnostics, secrets);
        return new TransformInfo(def?.TransformPath ?? (rules is null ? "" : "transform.rules"), st.TransformVersion, diagnostics,
            rules?.Select(r => TransformRuleInfo.Of(r, diagnostics, st.TransformVersion != null)).ToList());
    }
}

/// <summary>One rule of a JavaScript rule chain (prensio contract).</summary>
/// <param name="File">The script file as configured; null for inline source (<paramref name="Inline"/>).</param>
/// <param name="MatchSchema">The pattern searched in the schema ("" matches every schema).</param>
/// <param name="MatchTable">The same for the table.</param>
/// <param name="State">error (the last compilation failed in this rule; a version from before keeps running), ok (it
/// compiled), or pending (not compiled yet).</param>
/// <param name="Error">This rule's errors of the last compilation (<c>file(line,column): error CODE: message</c>, one per line).</param>
internal sealed record TransformRuleInfo(string Name, string? File, bool Inline, string MatchSchema, string MatchTable, string State, string? Error)
{
    public static TransformRuleInfo Of(TransformRule rule, string? diagnostics, bool live)
    {
        // A rule's diagnostics name it: its file as written, or "NAME (inline)" (ScriptDiagnostic: FILE(line,column): error …).
        var errors = diagnostics?.Split('\n').Where(l => l.StartsWith(rule.DisplayName + "(", StringComparison.Ordinal) && l.Contains("): error ", StringComparison.Ordinal)).ToList() ?? [];
        var state = errors.Count > 0 ? "error" : live || diagnostics != null ? "ok" : "pending";
        return new TransformRuleInfo(rule.Name, rule.File, rule.File is null, rule.MatchSchema.ToString(), rule.MatchTable.ToString(), state,
            errors.Count > 0 ? string.Join('\n', errors) : null);
    }
}
