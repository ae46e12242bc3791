using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace PluginHost.Scripting;

/// <summary>What a script's <c>Transform</c> returns.</summary>
internal enum TransformShape
{
    /// <summary><c>ChangeEvent? Transform(ChangeEvent e)</c>: the event to emit, or null to drop it.</summary>
    Single,
    /// <summary><c>IEnumerable&lt;ChangeEvent&gt; Transform(ChangeEvent e)</c> (or a List, array…): fan-out; empty or null drops.</summary>
    Many,
    /// <summary><c>void Transform(ChangeEvent e)</c>: mutates the event, which is always emitted.</summary>
    Void,
}

/// <summary>The outcome of compiling one version of a script: the assembly image, or the diagnostics.</summary>
internal sealed class ScriptBuild
{
    internal ScriptBuild(string path, IReadOnlyList<ScriptDiagnostic> diagnostics, byte[]? image, string? scriptClass, TransformShape shape,
        bool hasGuard, string contentHash, IReadOnlyList<HelperAssembly> helpers, TimeSpan elapsed)
    {
        Path = path;
        Diagnostics = diagnostics;
        Image = image;
        ScriptClass = scriptClass;
        Shape = shape;
        HasGuard = hasGuard;
        ContentHash = contentHash;
        Helpers = helpers;
        Elapsed = elapsed;
    }

    /// <summary>The script as named in diagnostics.</summary>
    public string Path { get; }
    public IReadOnlyList<ScriptDiagnostic> Diagnostics { get; }
    public bool Success => Image != null;
    public byte[]? Image { get; }
    internal string? ScriptClass { get; }
    public TransformShape Shape { get; }
    internal bool HasGuard { get; }

    /// <summary>Hash of the script text and the helper versions it was compiled against.</summary>
    public string ContentHash { get; }
    public IReadOnlyList<HelperAssembly> Helpers { get; }

    /// <summary>The helpers the script's code actually calls (a reload of one of them recompiles the script).</summary>
    public IReadOnlyList<HelperAssembly> UsedHelpers { get; init; } = [];
    public TimeSpan Elapsed { get; }

    /// <summary>True when the image came from the <see cref="CompiledScriptCache"/> instead of the compiler.</summary>
    public bool FromCache { get; init; }
}

/// <summary>
/// Compiles a <c>.csx</c> transform with Roslyn, once per version, as a C# script (top-level fields, methods,
/// statements and classes; no <c>#r</c>/<c>#load</c>). Implicit: <see cref="ImplicitUsings"/> and a
/// <c>using static</c> of every <c>[HelperFunctions]</c> class of the helper plugins, so <c>tObfString(s)</c> needs no
/// qualification. Loops and function bodies get time-limit checks (<see cref="LoopGuard"/>); positions in diagnostics are those of the
/// file as written. Ids of our own diagnostics: PH0001 no <c>Transform</c>, PH0002 wrong signature, PH0003 the
/// script's top-level code failed, PH0004 the file cannot be read, or compiling or loading it threw.
/// </summary>
internal static class ScriptCompiler
{
    /// <summary>Namespaces every script has without a using directive.</summary>
    public static readonly IReadOnlyList<string> ImplicitUsings =
        ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Text.Json.Nodes", "PluginHost.Sdk"];

    private const string ScriptClassName = "PluginHostScript";
    private static long _sequence;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Hash, Task<ScriptBuild> Build)> Precompiled = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts compiling a pipeline's script in the background as soon as its helper plugins are loaded, while the host
    /// is still starting (a cold compiler takes most of a second). The pipeline takes the result with
    /// <see cref="CompileOrTakePrecompiled"/> when the text and helpers are still the same; otherwise it compiles anew.
    /// </summary>
    /// <remarks>A build nobody takes within <see cref="PrecompiledLifetime"/> (its pipeline failed before its transform,
    /// or is paused) is dropped: it holds its helper plugins' assemblies, which a plugin reload could then never unload.</remarks>
    public static void Precompile(string path, string text, IReadOnlyList<HelperAssembly> helpers, CompiledScriptCache? cache = null)
    {
        var entry = (HashOf(text, helpers), Task.Run(() => CompileCached(path, text, helpers, cache)));
        Precompiled[path] = entry;
        _ = Task.Delay(PrecompiledLifetime).ContinueWith(_ => Precompiled.TryRemove(new KeyValuePair<string, (string, Task<ScriptBuild>)>(path, entry)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>How long a background build waits to be taken by its pipeline.</summary>
    internal static TimeSpan PrecompiledLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True while a background build for <paramref name="path"/> waits to be taken (tests).</summary>
    internal static bool HasPrecompiled(string path) => Precompiled.ContainsKey(path);

    /// <summary>The background build of exactly this text and helpers when there is one (taken once), else a new compile (or the cached one).</summary>
    public static async Task<ScriptBuild> CompileOrTakePrecompiled(string path, string text, IReadOnlyList<HelperAssembly> helpers, CompiledScriptCache? cache = null)
    {
        if (Precompiled.TryRemove(path, out var early) && early.Hash == HashOf(text, helpers))
        {
            try
            {
                return await early.Build.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // compile it again below, where a failure is reported the normal way
            }
        }
        return await Task.Run(() => CompileCached(path, text, helpers, cache)).ConfigureAwait(false);
    }

    /// <summary>The cached build of this text and helpers when <paramref name="cache"/> has one (Roslyn is then not even loaded), else <see cref="Compile"/> (and keep it).</summary>
    public static ScriptBuild CompileCached(string path, string text, IReadOnlyList<HelperAssembly> helpers, CompiledScriptCache? cache)
    {
        if (cache is null) return Compile(path, text, helpers);
        var key = CompiledScriptCache.KeyOf(path, text, helpers);
        if (cache.TryGet(key, path, HashOf(text, helpers), helpers) is { } cached) return cached;
        var build = Compile(path, text, helpers);
        cache.Store(key, build);
        return build;
    }

    /// <summary>Compiles script text; never throws for bad scripts (see <see cref="ScriptBuild.Diagnostics"/>).</summary>
    /// <param name="path">The script's name in diagnostics and stack traces (e.g. <c>transforms/obfuscate.csx</c>).</param>
    /// <param name="text">The script.</param>
    /// <param name="helpers">Helper plugins whose <c>[HelperFunctions]</c> classes are in scope.</param>
    public static ScriptBuild Compile(string path, string text, IReadOnlyList<HelperAssembly> helpers)
    {
        var clock = Stopwatch.StartNew();
        var hash = HashOf(text, helpers);
        var parseOptions = Roslyn.ParseOptions;
        var tree = CSharpSyntaxTree.ParseText(SourceText.From(text, Encoding.UTF8), parseOptions, path);
        var syntaxErrors = tree.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (syntaxErrors.Count > 0)
            return Failed(path, syntaxErrors.Select(d => ToScriptDiagnostic(d, tree, null)).ToList(), hash, helpers, clock);

        var usings = ImplicitUsings.Concat(helpers.SelectMany(h => h.HelperTypes).Select(t => t.Replace('+', '.'))).Distinct().ToList();
        var options = new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                scriptClassName: ScriptClassName,
                usings: usings,
                optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: false,
                concurrentBuild: false) // tiny compilations: parallel binding costs more than it saves (measured: no faster cold either)
            .WithSpecificDiagnosticOptions([
                new KeyValuePair<string, ReportDiagnostic>("CS1701", ReportDiagnostic.Suppress),
                new KeyValuePair<string, ReportDiagnostic>("CS1702", ReportDiagnostic.Suppress),
            ]);
        var references = ScriptReferences.Base.Concat(helpers.Select(ScriptReferences.Of)).ToList();
        var assemblyName = $"pluginhost-script-{Sanitize(System.IO.Path.GetFileNameWithoutExtension(path))}-{Interlocked.Increment(ref _sequence)}";

        // The guard asks a model of the script as written only about lambdas with an expression body.
        var guard = LoopGuard.Create(tree, () => CSharpCompilation.CreateScriptCompilation(assemblyName, tree, references, options, returnType: typeof(object)).GetSemanticModel(tree));
        var compiled = guard.HasGuard ? CSharpSyntaxTree.ParseText(guard.Text, parseOptions, path) : tree;
        var compilation = CSharpCompilation.CreateScriptCompilation(assemblyName, compiled, references, options, returnType: typeof(object));

        using var pe = new MemoryStream();
        var emit = compilation.Emit(pe, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        var diagnostics = emit.Diagnostics
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning && !d.IsSuppressed)
            .Where(d => d.Severity == DiagnosticSeverity.Error || !d.Location.IsInSource || !guard.IsInserted(d.Location.SourceSpan.Start)) // our own code's warnings
            .Select(d => ToScriptDiagnostic(d, tree, guard))
            .Distinct()
            .ToList();
        if (!emit.Success) return Failed(path, diagnostics, hash, helpers, clock);

        var shape = CheckSignature(compilation, tree, guard, diagnostics);
        if (diagnostics.Any(d => d.IsError)) return Failed(path, diagnostics, hash, helpers, clock);
        var usedHelpers = HelpersUsed(compilation, compiled, helpers);
        return new ScriptBuild(path, diagnostics, pe.ToArray(), compilation.ScriptClass!.MetadataName, shape, guard.HasGuard, hash, helpers, clock.Elapsed)
        {
            UsedHelpers = usedHelpers,
        };
    }

    /// <summary>
    /// The helpers whose members the code refers to. (Imports alone make the emitted assembly reference every helper
    /// assembly, and the compiler counts an import as a use, so this looks at what the names bind to.)
    /// </summary>
    private static List<HelperAssembly> HelpersUsed(CSharpCompilation compilation, SyntaxTree tree, IReadOnlyList<HelperAssembly> helpers)
    {
        if (helpers.Count == 0) return [];
        var byAssembly = new Dictionary<IAssemblySymbol, HelperAssembly>(SymbolEqualityComparer.Default);
        foreach (var h in helpers)
            if (compilation.GetAssemblyOrModuleSymbol(ScriptReferences.Of(h)) is IAssemblySymbol a) byAssembly.TryAdd(a, h);
        var model = compilation.GetSemanticModel(tree);
        var used = new List<HelperAssembly>();
        foreach (var name in tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.SimpleNameSyntax>())
        {
            var info = model.GetSymbolInfo(name);
            foreach (var symbol in info.Symbol is { } s ? [s] : info.CandidateSymbols)
                if (symbol.ContainingAssembly is { } assembly && byAssembly.TryGetValue(assembly, out var helper) && !used.Contains(helper))
                    used.Add(helper);
            if (used.Count == byAssembly.Count) break;
        }
        return used;
    }

    private static ScriptBuild Failed(string path, List<ScriptDiagnostic> diagnostics, string hash, IReadOnlyList<HelperAssembly> helpers, Stopwatch clock) =>
        new(path, diagnostics, null, null, TransformShape.Single, false, hash, helpers, clock.Elapsed);

    /// <summary>A failed build for a script that could not be read.</summary>
    public static ScriptBuild Unreadable(string path, string reason, IReadOnlyList<HelperAssembly> helpers) =>
        new(path, [new ScriptDiagnostic(path, 1, 1, "error", "PH0004", reason)], null, null, TransformShape.Single, false, "", helpers, TimeSpan.Zero);

    private static TransformShape CheckSignature(CSharpCompilation compilation, SyntaxTree original, LoopGuard guard, List<ScriptDiagnostic> diagnostics)
    {
        const string expected = "define 'ChangeEvent? Transform(ChangeEvent e)' (or 'IEnumerable<ChangeEvent> Transform(ChangeEvent e)' to fan out, or 'void Transform(ChangeEvent e)')";
        var script = compilation.ScriptClass!;
        var candidates = script.GetMembers("Transform").OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        var path = original.FilePath;
        if (candidates.Count == 0)
        {
            diagnostics.Add(new ScriptDiagnostic(path, 1, 1, "error", "PH0001", $"the script has no Transform method: {expected}"));
            return TransformShape.Single;
        }
        ScriptDiagnostic At(IMethodSymbol m, string message) =>
            m.Locations.FirstOrDefault(l => l.IsInSource) is { } loc
                ? ToScriptDiagnostic(Diagnostic.Create("PH0002", "Script", message, DiagnosticSeverity.Error, DiagnosticSeverity.Error, true, 0, location: loc), original, guard)
                : new ScriptDiagnostic(path, 1, 1, "error", "PH0002", message);
        if (candidates.Count > 1)
        {
            diagnostics.Add(At(candidates[1], "Transform is defined more than once; define exactly one"));
            return TransformShape.Single;
        }
        var method = candidates[0];
        var changeEvent = compilation.GetTypeByMetadataName("PluginHost.Sdk.ChangeEvent");
        if (method.Parameters.Length != 1 || !SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, changeEvent) ||
            method.Parameters[0].RefKind != RefKind.None || method.IsGenericMethod)
        {
            diagnostics.Add(At(method, $"Transform must take one ChangeEvent parameter: {expected}"));
            return TransformShape.Single;
        }
        var returns = method.ReturnType;
        if (method.ReturnsVoid) return TransformShape.Void;
        if (SymbolEqualityComparer.Default.Equals(returns, changeEvent)) return TransformShape.Single;
        var enumerable = compilation.GetSpecialType(SpecialType.System_Collections_Generic_IEnumerable_T).Construct(changeEvent!);
        bool IsEnumerable(ITypeSymbol t) => SymbolEqualityComparer.Default.Equals(t, enumerable);
        if (!method.ReturnsByRef && (IsEnumerable(returns) || returns.AllInterfaces.Any(IsEnumerable))) return TransformShape.Many;
        diagnostics.Add(At(method, $"Transform returns {returns.ToDisplayString()}: {expected}"));
        return TransformShape.Single;
    }

    private static ScriptDiagnostic ToScriptDiagnostic(Diagnostic d, SyntaxTree original, LoopGuard? guard)
    {
        var severity = d.Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        if (!d.Location.IsInSource)
            return new ScriptDiagnostic(original.FilePath, 1, 1, severity, d.Id, message);
        var span = d.Location.SourceSpan;
        var start = guard is null ? span.Start : guard.ToOriginal(span.Start);
        var mapped = original.GetMappedLineSpan(new TextSpan(start, 0));
        var file = mapped.HasMappedPath ? mapped.Path : original.FilePath;
        return new ScriptDiagnostic(file, mapped.StartLinePosition.Line + 1, mapped.StartLinePosition.Character + 1, severity, d.Id, message);
    }

    /// <summary>The version hash of a script text compiled against a set of helpers.</summary>
    public static string HashOf(string text, IReadOnlyList<HelperAssembly> helpers)
    {
        var sb = new StringBuilder(text);
        foreach (var h in helpers.OrderBy(h => h.PluginName, StringComparer.Ordinal)) sb.Append('\0').Append(h.PluginName).Append('@').Append(h.Version);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..12];
    }

    /// <summary>Roslyn objects, apart so that a cached build never loads the compiler (statics initialise on first use).</summary>
    private static class Roslyn
    {
        public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Script);
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
