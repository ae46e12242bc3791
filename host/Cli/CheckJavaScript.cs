using System.Text.RegularExpressions;
using PluginHost.Config;
using PluginHost.Scripting;
using PluginHost.Scripting.JavaScript;

namespace PluginHost.Cli;

/// <summary><c>pluginhost check x.js</c>: loads a JavaScript transform as a pipeline would (native contract, or one prensio rule).</summary>
internal static partial class CheckJavaScript
{
    /// <summary>The loaded version, or null after printing why it did not load (diagnostics as <c>file(line,column)</c>, messages with <c>file:line:column</c>).</summary>
    public static async Task<JsTransform?> LoadAsync(string script, string? contract, IReadOnlyList<HelperAssembly> helpers, TimeSpan timeout, TextWriter errors)
    {
        string text;
        try
        {
            text = ScriptText.Read(script);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"pluginhost check: {script}: {e.Message}").ConfigureAwait(false);
            return null;
        }
        var prensio = contract == "prensio" || contract is null && PrensioScript().IsMatch(text);
        var source = prensio
            ? JavaScriptTransformSource.Rules("check", [new TransformRule(Path.GetFileNameWithoutExtension(script), new Regex(""), new Regex(""), script, null)], f => f)
            : JavaScriptTransformSource.Native("check", script);
        var build = source.Build(script, text, helpers, timeout);
        foreach (var d in build.Diagnostics.OrderBy(d => d.IsError ? 0 : 1).ThenBy(d => d.Line))
            await errors.WriteLineAsync(d.ToString()).ConfigureAwait(false);
        if (build.Loaded is JsTransform loaded) return loaded;
        await errors.WriteLineAsync($"{script}: {build.Diagnostics.Count(d => d.IsError)} error(s)").ConfigureAwait(false);
        return null;
    }

    [GeneratedRegex(@"\btransform\s*(=\s*(function\s*)?)?\(\s*cdc_event\b|\bACTION_(CONT|DROP)\b")]
    private static partial Regex PrensioScript();
}
