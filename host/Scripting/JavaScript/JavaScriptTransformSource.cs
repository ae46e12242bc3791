using Jint;
using Jint.Native;
using Jint.Runtime;
using PluginHost.Config;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// A JavaScript transform for <see cref="ScriptTransformHost"/>: one native-contract file (<c>transform: NAME.js</c>) or
/// a chain of prensio-contract rules (<c>transform.rules</c>), files and inline sources, reloaded together as one version.
/// </summary>
internal sealed class JavaScriptTransformSource : ITransformSource
{
    /// <summary>Statements one event may run.</summary>
    public const int MaxStatements = 100_000_000;

    /// <summary>Bytes one event may allocate.</summary>
    public const long MemoryLimit = 256L << 20;

    /// <summary>Call depth one event may reach.</summary>
    public const int MaxRecursion = 512;

    private const char Separator = '\u0000'; // between the sources of a chain's rules in the text read (never in a script)

    private readonly string _pipeline;
    private readonly IReadOnlyList<(TransformRule Rule, string? File)>? _rules;
    private readonly string? _file;

    private JavaScriptTransformSource(string pipeline, string? file, IReadOnlyList<(TransformRule, string?)>? rules)
    {
        _pipeline = pipeline;
        _file = file;
        _rules = rules;
        Files = file != null ? [file] : rules!.Where(r => r.Item2 != null).Select(r => r.Item2!).Distinct().ToList();
    }

    /// <summary>One native-contract script.</summary>
    public static JavaScriptTransformSource Native(string pipeline, string file) => new(pipeline, Path.GetFullPath(file), null);

    /// <summary>A chain of prensio-contract rules; <paramref name="resolve"/> turns a rule's <c>file</c> into a path.</summary>
    public static JavaScriptTransformSource Rules(string pipeline, IReadOnlyList<TransformRule> rules, Func<string, string> resolve) =>
        new(pipeline, null, rules.Select(r => (r, r.File is { } f ? Path.GetFullPath(resolve(f)) : null)).ToList());

    public IReadOnlyList<string> Files { get; }

    public string Read() => _file != null
        ? ScriptText.Read(_file)
        : string.Join(Separator, _rules!.Select(r => r.File is { } f ? ScriptText.Read(f) : r.Rule.Script!));

    public string Hash(string text, IReadOnlyList<HelperAssembly> helpers) => ScriptCompiler.HashOf("js\n" + _pipeline + "\n" + text, helpers);

    public Task<TransformBuild> BuildAsync(string displayPath, string text, IReadOnlyList<HelperAssembly> helpers, TimeSpan timeout, CompiledScriptCache? cache) =>
        Task.FromResult(Build(displayPath, text, helpers, timeout));

    /// <summary>Parses and loads every script (their top-level code runs once, within the per-event limits).</summary>
    public TransformBuild Build(string displayPath, string text, IReadOnlyList<HelperAssembly> helpers, TimeSpan timeout)
    {
        var sources = _file != null ? [(Rule: (TransformRule?)null, Path: displayPath, Text: text)]
            : text.Split(Separator).Zip(_rules!, (t, r) => (Rule: (TransformRule?)r.Rule, Path: r.Rule.DisplayName, Text: t)).ToList();
        var functions = JsHelpers.Find(helpers);
        var diagnostics = new List<ScriptDiagnostic>();
        var scripts = new List<JsScript>();
        var used = new List<HelperAssembly>();
        var watch = new JsHelperWatch(timeout);
        watch.Start(); // top-level code's helper calls are timed too
        foreach (var (rule, path, source) in sources)
        {
            if (Load(rule, path, source, functions, watch, timeout, diagnostics) is { } script)
            {
                scripts.Add(script);
                used.AddRange(JsHelpers.UsedBy(source, functions));
            }
        }
        if (diagnostics.Count > 0 || scripts.Count != sources.Count)
        {
            foreach (var s in scripts) s.Engine.Dispose();
            watch.Stop();
            return new TransformBuild(null, diagnostics);
        }
        var version = new JsTransform(displayPath, Hash(text, helpers), [.. scripts], _rules != null, _pipeline, timeout, used.Distinct().ToList(), [], watch);
        return new TransformBuild(version, []);
    }

    private static JsScript? Load(TransformRule? rule, string path, string source, Dictionary<string, (HelperAssembly Helper, System.Reflection.MethodInfo[] Overloads)> functions,
        JsHelperWatch watch, TimeSpan timeout, List<ScriptDiagnostic> diagnostics)
    {
        Prepared<Acornima.Ast.Script> prepared;
        try
        {
            prepared = Engine.PrepareScript(source, path);
        }
        catch (ScriptPreparationException e) when (e.InnerException is Acornima.ParseErrorException p)
        {
            diagnostics.Add(new ScriptDiagnostic(path, Math.Max(1, p.LineNumber), p.Column + 1, "error", "JS1001", p.Message));
            return null;
        }
        catch (ScriptPreparationException e)
        {
            diagnostics.Add(new ScriptDiagnostic(path, 1, 1, "error", "JS1001", e.Message));
            return null;
        }
        var engine = NewEngine(timeout);
        try
        {
            engine.SetValue("ACTION_CONT", 0);
            engine.SetValue("ACTION_DROP", 1);
            JsHelpers.Register(engine, functions, watch, path);
            engine.Execute(prepared);
            // A function declaration, or a top-level const/let/var holding one (an arrow function), as written.
            var function = engine.Evaluate("typeof transform === 'function' ? transform : undefined");
            if (function is not Jint.Native.Function.Function)
            {
                diagnostics.Add(new ScriptDiagnostic(path, 1, 1, "error", "JS0001",
                    rule is null ? "define 'function transform(event)' (return the event, null to drop it, or an array of events)"
                        : "define 'function transform(cdc_event)' (return ACTION_CONT or ACTION_DROP)"));
                engine.Dispose();
                return null;
            }
            return new JsScript(rule, path, engine, function);
        }
        catch (Exception e) when ((e as TransformTimeoutException ?? JsTransform.Translate(e, path, timeout)) is { } failure)
        {
            var line = e is JavaScriptException js ? js.Location.Start.Line : 1;
            var column = e is JavaScriptException j2 ? j2.Location.Start.Column + 1 : 1;
            diagnostics.Add(new ScriptDiagnostic(path, Math.Max(1, line), Math.Max(1, column), "error", "JS0003", $"the script's top-level code failed: {failure.Message}"));
            engine.Dispose();
            return null;
        }
    }

    /// <summary>
    /// An engine with the per-event limits (Jint resets them at every call); its stack guard turns a recursion the
    /// thread's stack cannot hold (before the depth limit, on a small stack) into a <c>RangeError</c>, not a crash. One
    /// regular expression match may run as long as the event (Jint's default is 10 s, whatever the limit).
    /// </summary>
    public static Engine NewEngine(TimeSpan timeout) => new(options =>
    {
        options.TimeoutInterval(timeout).MaxStatements(MaxStatements).LimitMemory(MemoryLimit).LimitRecursion(MaxRecursion);
        options.Constraints.StackOverflowGuard = true;
        options.Constraints.RegexTimeout = timeout;
    });
}
