using System.Diagnostics;
using System.Reflection;
using PluginHost.Sdk;

namespace PluginHost.Scripting;

/// <summary>
/// One loaded version of a transform script: its own collectible <see cref="System.Runtime.Loader.AssemblyLoadContext"/>,
/// one script instance (whose top-level fields are the version's state) and <c>Transform</c> bound to a delegate.
/// <see cref="Apply"/> is a plain delegate call plus two field writes for the <see cref="TransformWatchdog"/>.
/// Called by one thread at a time (the pipeline's writer).
/// </summary>
internal sealed class CompiledTransform : ITransformVersion, TransformWatchdog.IWatched
{
    private static long _versions;

    private Func<ChangeEvent, ChangeEvent?>? _single;
    private Func<ChangeEvent, IEnumerable<ChangeEvent?>?>? _many;
    private Action<ChangeEvent>? _void;
    private ScriptLoadContext? _context;
    private Assembly? _assembly;
    private FieldInfo? _trippedField, _onTripField;
    private object? _instance;
    private readonly object _unloadGate = new();

    // Event clock: written by the pipeline thread, read by the watchdog.
    private long _sequence;
    private long _active;     // token of the event being transformed, 0 when idle
    private long _tripToken;  // token the watchdog found over its limit
    private long _stuckToken; // token reported stuck (still running well past the limit)
    private long _tripTicks;  // how long the tripped event had run when tripped
    private int _stoppedLine; // script line of the last check that stopped an event
    private int _deepLine;    // script line of the last entry check that found the stack nearly used up
    private int _eventThread; // managed thread id running the current event (or the top-level code): the only one a check may stop

    // Watchdog's own bookkeeping (only the watchdog thread touches these).
    private long _watchToken, _watchSince;

    private CompiledTransform(ScriptBuild build, TimeSpan timeout, string version)
    {
        Path = build.Path;
        Shape = build.Shape;
        Timeout = timeout;
        ContentHash = build.ContentHash;
        Version = version;
        Warnings = build.Diagnostics;
    }

    /// <summary>e.g. <c>obfuscate.csx@1a2b3c4d.3</c>: file, hash of script and helper versions, load number.</summary>
    public string Version { get; }

    /// <summary>The script as named in diagnostics.</summary>
    public string Path { get; }
    public TransformShape Shape { get; }
    public string ContentHash { get; }

    /// <summary>Per-event time limit.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Helper plugins the compiled script actually references (a reload of one of them recompiles the script).</summary>
    public IReadOnlyList<HelperAssembly> UsedHelpers { get; private set; } = [];

    /// <summary>Warnings of the compilation.</summary>
    public IReadOnlyList<ScriptDiagnostic> Warnings { get; }

    /// <summary>Raised (on the watchdog thread) when an event keeps running well past the limit outside any guarded loop: the thread cannot be aborted.</summary>
    public Action<string>? Stuck { get; set; }

    /// <summary>Raised when an event reported <see cref="Stuck"/> finally returned (it then fails with a timeout).</summary>
    public Action? Recovered { get; set; }

    /// <summary>True once <see cref="Unload"/> ran.</summary>
    public bool IsUnloaded => _context is null;

    /// <summary>Tracks the load context's collection after <see cref="Unload"/> (tests).</summary>
    public WeakReference ContextReference { get; private set; } = new(null);

    /// <summary>
    /// Loads a successful build into a new collectible context, runs the script's top-level code (at most
    /// <paramref name="initTimeout"/>) and binds <c>Transform</c>. Throws <see cref="ScriptCompilationException"/> (PH0003)
    /// when the top-level code throws or does not finish.
    /// </summary>
    public static CompiledTransform Load(ScriptBuild build, TimeSpan timeout, TimeSpan? initTimeout = null)
    {
        if (!build.Success) throw new ScriptCompilationException(build.Diagnostics);
        var n = Interlocked.Increment(ref _versions);
        var t = new CompiledTransform(build, timeout, $"{System.IO.Path.GetFileName(build.Path)}@{build.ContentHash[..8]}.{n}");
        var context = new ScriptLoadContext($"script {t.Version}", build.Helpers);
        try
        {
            t.Bind(context, build, initTimeout ?? TimeSpan.FromSeconds(10));
        }
        catch
        {
            t._single = null; t._many = null; t._void = null; t._instance = null; t._assembly = null;
            context.Unload();
            throw;
        }
        TransformWatchdog.Watch(t);
        return t;
    }

    private void Bind(ScriptLoadContext context, ScriptBuild build, TimeSpan initTimeout)
    {
        _context = context;
        ContextReference = new WeakReference(context);
        using (var image = new MemoryStream(build.Image!, writable: false)) _assembly = context.LoadFromStream(image);
        var type = _assembly.GetType(build.ScriptClass!, throwOnError: true)!;
        UsedHelpers = build.UsedHelpers;
        // Unused helper versions must not be kept alive by this context (the emitted assembly references every imported helper).
        context.KeepOnly(UsedHelpers.Select(h => h.Assembly.GetName().Name ?? "").ToHashSet(StringComparer.OrdinalIgnoreCase));

        if (build.HasGuard && type.GetNestedType(LoopGuard.ClassName, BindingFlags.Public) is { } guard)
        {
            _trippedField = guard.GetField("Tripped", BindingFlags.Public | BindingFlags.Static);
            _onTripField = guard.GetField("OnTrip", BindingFlags.Public | BindingFlags.Static);
            _onTripField?.SetValue(null, new Action<int, bool>(OnGuardCheck));
        }

        // Run the top-level code: creates the script instance (submission slot 1), initialises its fields.
        var factory = type.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.Static)
                      ?? throw new InvalidOperationException("compiled script has no factory");
        var submissions = new object?[2];
        // The top-level code runs as an "event" of its own, so the guard's checks can stop it at initTimeout.
        var initToken = ++_sequence;
        Volatile.Write(ref _active, initToken);
        var init = Task.Run(() =>
        {
            Volatile.Write(ref _eventThread, Environment.CurrentManagedThreadId);
            return (Task)factory.Invoke(null, [submissions])!;
        }); // unwrapped: completes with the top-level code
        try
        {
            if (!init.Wait(initTimeout))
            {
                _tripTicks = initTimeout.Ticks;
                Volatile.Write(ref _tripToken, initToken);
                _trippedField?.SetValue(null, true);
                var stopped = false;
                try { stopped = init.Wait(TimeSpan.FromSeconds(2)); }
                catch (AggregateException) { stopped = true; }
                var line = Volatile.Read(ref _stoppedLine);
                throw new ScriptCompilationException([new ScriptDiagnostic(Path, line > 0 ? line : 1, 1, "error", "PH0003",
                    $"the script's top-level code did not finish within {Seconds(initTimeout)}" + (stopped
                        ? line > 0 ? $": stopped at line {line}" : ""
                        : ": it is blocked outside any loop or function entry it can interrupt, and its thread cannot be aborted"))]);
            }
        }
        catch (AggregateException e)
        {
            var inner = e.Flatten().InnerExceptions[0];
            if (inner is TargetInvocationException { InnerException: { } ti }) inner = ti;
            throw Init($"the script's top-level code threw {inner.GetType().Name}: {inner.Message}", inner);
        }
        finally
        {
            Volatile.Write(ref _active, 0);
            Volatile.Write(ref _tripToken, 0);
            _trippedField?.SetValue(null, false);
        }
        _instance = submissions[1];

        var method = type.GetMethod("Transform", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)!;
        var target = method.IsStatic ? null : _instance;
        switch (Shape)
        {
            case TransformShape.Single: _single = (Func<ChangeEvent, ChangeEvent?>)Delegate.CreateDelegate(typeof(Func<ChangeEvent, ChangeEvent?>), target, method); break;
            case TransformShape.Many: _many = (Func<ChangeEvent, IEnumerable<ChangeEvent?>?>)Delegate.CreateDelegate(typeof(Func<ChangeEvent, IEnumerable<ChangeEvent?>?>), target, method); break;
            default: _void = (Action<ChangeEvent>)Delegate.CreateDelegate(typeof(Action<ChangeEvent>), target, method); break;
        }
    }

    private ScriptCompilationException Init(string message, Exception? inner)
    {
        var where = inner is null ? null : Locate(inner);
        return new ScriptCompilationException([new ScriptDiagnostic(where?.File ?? Path, where?.Line ?? 1, 1, "error", "PH0003", message)]);
    }

    /// <inheritdoc />
    public void Apply(ChangeEvent change, List<ChangeEvent> output)
    {
        var token = ++_sequence;
        _eventThread = Environment.CurrentManagedThreadId;
        Volatile.Write(ref _active, token);
        var late = false;
        try
        {
            switch (Shape)
            {
                case TransformShape.Single:
                    if (_single!(change) is { } result) output.Add(result);
                    break;
                case TransformShape.Many:
                    if (_many!(change) is { } results)
                        foreach (var r in results)
                            if (r != null) output.Add(r);
                    break;
                default:
                    _void!(change);
                    output.Add(change);
                    break;
            }
        }
        catch (InsufficientExecutionStackException e)
        {
            // Thrown thousands of frames deep: a fresh exception, so that neither the log nor a dead letter carries that stack.
            throw new ScriptException($"{nameof(InsufficientExecutionStackException)}: {e.Message}", new InsufficientExecutionStackException(e.Message), Path,
                _deepLine > 0 ? _deepLine : null);
        }
        catch (Exception e) when (e is not TransformTimeoutException)
        {
            throw Wrap(e);
        }
        finally
        {
            Volatile.Write(ref _active, 0);
            if (Volatile.Read(ref _tripToken) != 0) late = EndTrip(token);
        }
        if (late)
            throw new TransformTimeoutException($"transform exceeded its time limit of {Seconds(Timeout)}: the event took over {Seconds(TimeSpan.FromTicks(_tripTicks))} ({Path})", Path);
    }

    /// <summary>
    /// Called by the script's loop and function-entry checks when the guard flag is up: throws if the current event (or
    /// the top-level code) is the tripped one and this is its thread. Checks on any other thread (a timer, a thread or task
    /// the script started, a finalizer) return: a timeout thrown there would stop the wrong code, or end the process.
    /// </summary>
    private void OnGuardCheck(int line, bool loop)
    {
        // Any thread: an overflowing stack ends the process wherever it happens, an exception at least may be caught.
        if (!loop && !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _deepLine = line;
            throw new InsufficientExecutionStackException(
                $"the transform recursed too deep: the thread's stack was nearly used up on entering the function at {Path}:line {line}");
        }
        if (Environment.CurrentManagedThreadId != Volatile.Read(ref _eventThread)) return;
        var active = Volatile.Read(ref _active);
        if (active != 0 && Volatile.Read(ref _tripToken) == active)
        {
            Volatile.Write(ref _stoppedLine, line);
            throw new TransformTimeoutException(
                $"transform exceeded its time limit of {Seconds(Timeout)}: stopped {(loop ? "in the loop" : "on entering the function")} at {Path}:line {line} after {Seconds(TimeSpan.FromTicks(_tripTicks))}", Path, line);
        }
        _trippedField?.SetValue(null, false); // a stale trip of an event that has since finished
    }

    private bool EndTrip(long token)
    {
        var tripped = Interlocked.Exchange(ref _tripToken, 0);
        _trippedField?.SetValue(null, false);
        if (Interlocked.Exchange(ref _stuckToken, 0) != 0) Recovered?.Invoke();
        return tripped == token;
    }

    /// <summary>The watchdog's look at this transform (every tick).</summary>
    public void Observe(long now)
    {
        var active = Volatile.Read(ref _active);
        if (active == 0 || active != _watchToken)
        {
            _watchToken = active;
            _watchSince = now;
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(_watchSince, now);
        if (elapsed >= Timeout && Volatile.Read(ref _tripToken) != active)
        {
            _tripTicks = elapsed.Ticks;
            Volatile.Write(ref _tripToken, active);
            _trippedField?.SetValue(null, true);
        }
        var grace = Timeout > TimeSpan.FromSeconds(1) ? Timeout : TimeSpan.FromSeconds(1);
        if (elapsed >= Timeout + grace && Volatile.Read(ref _stuckToken) != active)
        {
            Volatile.Write(ref _stuckToken, active);
            Stuck?.Invoke($"transform {Path} has been running one event for {Seconds(elapsed)} (limit {Seconds(Timeout)}) outside any loop or function entry " +
                          "it can interrupt (a blocking call or a helper function); a thread cannot be aborted, so the pipeline waits for it");
        }
    }

    private ScriptException Wrap(Exception e)
    {
        var where = Locate(e);
        var at = where is null ? $" (in {Path})" : $" (at {where.Value.File}:line {where.Value.Line})";
        return new ScriptException($"{e.GetType().Name}: {e.Message}{at}", e, where?.File ?? Path, where?.Line);
    }

    private (string File, int Line)? Locate(Exception e)
    {
        var assembly = _assembly;
        if (assembly is null) return null;
        try
        {
            foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
                if (frame.GetMethod()?.Module.Assembly == assembly && frame.GetFileLineNumber() > 0)
                    return (frame.GetFileName() ?? Path, frame.GetFileLineNumber());
        }
        catch (Exception) { } // symbols are a nicety
        return null;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 10 ? $"{t.TotalSeconds:0} s" : $"{t.TotalSeconds:0.###} s";

    /// <summary>
    /// Drops this version: stops watching it, releases the delegate and script instance and starts unloading its
    /// context (the runtime frees it once nothing references its code). Call only once the pipeline no longer uses it.
    /// </summary>
    public void Unload()
    {
        ScriptLoadContext? context;
        lock (_unloadGate)
        {
            context = _context;
            if (context is null) return;
            _context = null;
        }
        TransformWatchdog.Unwatch(this);
        try { _onTripField?.SetValue(null, null); } catch (Exception) { }
        _single = null;
        _many = null;
        _void = null;
        _instance = null;
        _assembly = null;
        _trippedField = null;
        _onTripField = null;
        Stuck = null;
        Recovered = null;
        UsedHelpers = []; // lets old helper plugin versions go too
        context.Unload();
    }

    public void Dispose() => Unload();

    public override string ToString() => Version;
}
