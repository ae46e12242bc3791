namespace PluginHost.Scripting;

/// <summary>A <c>.csx</c> script: compiled with Roslyn (or taken from the compile cache) into a <see cref="CompiledTransform"/>.</summary>
internal sealed class CSharpTransformSource(string file) : ITransformSource
{
    public IReadOnlyList<string> Files { get; } = [file];

    public string Read() => ScriptText.Read(file);

    public string Hash(string text, IReadOnlyList<HelperAssembly> helpers) => ScriptCompiler.HashOf(text, helpers);

    public async Task<TransformBuild> BuildAsync(string displayPath, string text, IReadOnlyList<HelperAssembly> helpers, TimeSpan timeout, CompiledScriptCache? cache)
    {
        var build = await ScriptCompiler.CompileOrTakePrecompiled(displayPath, text, helpers, cache).ConfigureAwait(false);
        if (!build.Success) return new TransformBuild(null, build.Diagnostics, build.FromCache);
        try
        {
            return new TransformBuild(CompiledTransform.Load(build, timeout), build.Diagnostics, build.FromCache);
        }
        catch (ScriptCompilationException e)
        {
            return new TransformBuild(null, [.. build.Diagnostics, .. e.Diagnostics], build.FromCache);
        }
    }
}
