using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using PluginHost.Config;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>One loaded script of a JavaScript version: its engine (one per script, reused for every event) and <c>transform</c>.</summary>
/// <param name="Rule">The rule it runs for (null: the native contract's single script).</param>
/// <param name="Path">The script as named in messages.</param>
internal sealed record JsScript(TransformRule? Rule, string Path, Engine Engine, JsValue Function)
{
    /// <summary>The shapes of the objects built for this script's engine.</summary>
    public JsShapeCache Shapes { get; } = new(Engine);

    /// <summary>Calls <see cref="Function"/> (a function: checked when the script loaded).</summary>
    public JsCall Call { get; } = new(Engine, (Jint.Native.Function.Function)Function);
}

/// <summary>
/// One version of a JavaScript transform: a native-contract script (<c>function transform(event)</c>) or a chain of
/// prensio-contract rules (<c>function transform(cdc_event)</c>, <c>ACTION_CONT</c>/<c>ACTION_DROP</c>). Each event
/// is limited by Jint's constraints (time, statements, memory, recursion): a script that exceeds one fails that event.
/// Called by one thread at a time (the pipeline's writer).
/// </summary>
internal sealed class JsTransform : ITransformVersion
{
    private static long _versions;
    private readonly PrensioEvent _prensio;
    private readonly JsRows _rows = new();
    private readonly TimeSpan _timeout;
    private readonly JsHelperWatch? _watch;
    private JsScript[] _scripts;

    public JsTransform(string displayPath, string contentHash, JsScript[] scripts, bool prensio, string pipeline, TimeSpan timeout,
        IReadOnlyList<HelperAssembly> usedHelpers, IReadOnlyList<ScriptDiagnostic> warnings, JsHelperWatch? watch = null)
    {
        _scripts = scripts;
        _watch = watch;
        IsPrensio = prensio;
        _prensio = new PrensioEvent(pipeline);
        _timeout = timeout;
        ContentHash = contentHash;
        UsedHelpers = usedHelpers;
        Warnings = warnings;
        Version = $"{System.IO.Path.GetFileName(displayPath)}@{contentHash[..8]}.{Interlocked.Increment(ref _versions)}";
        ContextReference = new WeakReference(scripts.Length > 0 ? scripts[0].Engine : null);
    }

    /// <summary>True for a rule chain (prensio contract), false for the native contract.</summary>
    public bool IsPrensio { get; }

    public string Version { get; }
    public string ContentHash { get; }
    public IReadOnlyList<ScriptDiagnostic> Warnings { get; }
    public IReadOnlyList<HelperAssembly> UsedHelpers { get; private set; }
    public bool IsUnloaded => _unloaded;
    public WeakReference ContextReference { get; }
    /// <summary>Raised when a helper function call keeps running well past the limit (<see cref="JsHelperWatch"/>).</summary>
    public Action<string>? Stuck
    {
        get => _watch?.Stuck;
        set { if (_watch != null) _watch.Stuck = value; }
    }

    public Action? Recovered
    {
        get => _watch?.Recovered;
        set { if (_watch != null) _watch.Recovered = value; }
    }
    private bool _unloaded;

    /// <inheritdoc />
    public void Apply(ChangeEvent change, List<ChangeEvent> output)
    {
        var scripts = _scripts;
        _rows.Clear();
        try
        {
            if (IsPrensio) ApplyRules(scripts, change, output);
            else
            {
                var s = scripts[0];
                var js = NativeEvent.ToJs(s.Shapes, change, _rows);
                var result = Call(s, js);
                NativeEvent.Emit(result, js, change, _rows, output);
            }
        }
        finally
        {
            _rows.Clear();
        }
    }

    private void ApplyRules(JsScript[] scripts, ChangeEvent change, List<ChangeEvent> output)
    {
        for (var i = 0; i < scripts.Length; i++)
        {
            // (Against the names as the rules before left them: a rule that renames the table changes which rules follow.)
            if (!Matching(scripts, change.Database, change.Table)[i]) continue;
            var s = scripts[i];
            _rows.Clear();
            var cdc = _prensio.ToJs(s.Shapes, change, _rows);
            var verdict = Call(s, cdc);
            var drop = Verdict(s, verdict, cdc);
            _prensio.FromJs(s.Shapes, cdc, change, _rows);
            if (drop) return; // the first ACTION_DROP ends the chain: the event goes nowhere
        }
        change.Destination ??= _prensio.CachedDefaultTopic(change);
        change.Key ??= PrensioEvent.DefaultKey(change);
        output.Add(change);
    }

    // Which rules match the last table seen: events come table after table, so the patterns run once per table change,
    // not per event (two regular expression searches per rule and event otherwise).
    private JsScript[]? _matchedScripts;
    private string? _matchedDatabase, _matchedTable;
    private bool[] _matched = [];

    private bool[] Matching(JsScript[] scripts, string database, string table)
    {
        if (ReferenceEquals(scripts, _matchedScripts) && string.Equals(database, _matchedDatabase, StringComparison.Ordinal) && string.Equals(table, _matchedTable, StringComparison.Ordinal))
            return _matched;
        var matched = new bool[scripts.Length];
        for (var i = 0; i < scripts.Length; i++) matched[i] = scripts[i].Rule!.Matches(database, table);
        (_matchedScripts, _matchedDatabase, _matchedTable, _matched) = (scripts, database, table, matched);
        return matched;
    }

    private static bool Verdict(JsScript s, JsValue verdict, ObjectInstance cdc)
    {
        if (verdict.IsUndefined() || verdict.IsNull() || ReferenceEquals(verdict, cdc)) return false;
        if (verdict.IsNumber())
        {
            var n = verdict.AsNumber();
            if (n == 0) return false;
            if (n == 1) return true;
        }
        throw new InvalidOperationException($"rule {s.Rule!.Name}: transform returned {JsRows.Describe(verdict)}: expected ACTION_CONT (0) or ACTION_DROP (1) ({s.Path})");
    }

    private JsValue Call(JsScript s, JsValue argument)
    {
        try
        {
            return s.Call.Invoke(argument);
        }
        catch (Exception e) when (Translate(e, s.Path, _timeout) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Jint's failures as the pipeline's: a timeout as <see cref="TransformTimeoutException"/>, the rest as <see cref="ScriptException"/> naming <c>file:line:column</c>.</summary>
    internal static Exception? Translate(Exception e, string path, TimeSpan timeout) => e switch
    {
        TimeoutException => new TransformTimeoutException($"transform exceeded its time limit of {timeout.TotalSeconds:0.###} s ({path})", path),
        JavaScriptException js => new ScriptException($"{js.Error.Get("name")}: {js.Message} (at {Where(js.Location, path)})", e, path, js.Location.Start.Line),
        MemoryLimitExceededException => new ScriptException($"{e.GetType().Name}: the transform allocated more than its memory limit for one event ({path}): {e.Message}", e, path),
        StatementsCountOverflowException => new ScriptException($"{e.GetType().Name}: the transform ran more statements than its limit for one event ({path})", e, path),
        RecursionDepthOverflowException r => new ScriptException($"{e.GetType().Name}: the transform recursed too deep ({path}): {r.CallChain.Split("->").FirstOrDefault()?.Trim()} …", e, path),
        InsufficientExecutionStackException => new ScriptException($"{e.GetType().Name}: the transform recursed too deep: the thread's stack was nearly used up ({path})", e, path),
        ExecutionCanceledException => new TransformTimeoutException($"transform was cancelled ({path})", path),
        JintException or InvalidOperationException or ArgumentException or FormatException or InvalidCastException or NullReferenceException =>
            new ScriptException($"{e.GetType().Name}: {e.Message} ({path})", e, path),
        _ => null, // anything else passes as it is
    };

    private static string Where(Acornima.SourceLocation location, string path) =>
        location.Start.Line > 0 ? $"{(string.IsNullOrEmpty(location.SourceFile) ? path : location.SourceFile)}:{location.Start.Line}:{location.Start.Column + 1}" : path;

    /// <summary>Releases the engines (nothing else holds them: they are collected).</summary>
    public void Unload()
    {
        var scripts = Interlocked.Exchange(ref _scripts, []);
        if (_unloaded) return;
        _unloaded = true;
        _watch?.Stop();
        foreach (var s in scripts) s.Engine.Dispose();
        UsedHelpers = [];
    }

    public void Dispose() => Unload();

    public override string ToString() => Version;
}
