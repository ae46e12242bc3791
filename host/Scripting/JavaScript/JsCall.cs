using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;
using Jint.Native.Function;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// Calls a script's <c>transform</c> with one argument exactly as <see cref="Engine.Call(JsValue, JsValue[])"/> does (its
/// limits reset, its call stack), minus the closure and delegate that call makes each time: through Jint 4.18's internals
/// (<see cref="UnsafeAccessorAttribute"/>), checked once; with a Jint whose internals differ, through the public call.
/// One per script, one thread.
/// </summary>
internal sealed class JsCall
{
    /// <summary>True when Jint's internals are as expected (checked once, on an engine of its own).</summary>
    public static bool Available { get; } = Probe();

    private readonly Engine _engine;
    private readonly Function _function;
    private readonly JsValue[] _arguments = new JsValue[1];
    private readonly Func<JsValue> _callback;
    private readonly bool _strict;

    public JsCall(Engine engine, Function function)
    {
        _engine = engine;
        _function = function;
        _callback = () => CallFunction(_engine, _function, JsValue.Undefined, _arguments, null);
        _strict = Available && OptionsOf(engine).Strict;
    }

    /// <summary><c>transform(argument)</c>.</summary>
    public JsValue Invoke(JsValue argument)
    {
        if (!Available) return _function.Call(argument);
        _arguments[0] = argument;
        try
        {
            return ExecuteWithConstraints(_engine, _strict, _callback);
        }
        finally
        {
            _arguments[0] = JsValue.Undefined;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "ExecuteWithConstraints")]
    private static extern T ExecuteWithConstraints<T>(Engine engine, bool strict, Func<T> callback);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Call")]
    private static extern JsValue CallFunction(Engine engine, Function function, JsValue thisObject, JsValue[] arguments,
        [UnsafeAccessorType("Jint.Runtime.Interpreter.Expressions.JintExpression, Jint")] object? expression);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Options")]
    private static extern Options OptionsOf(Engine engine);

    private static bool Probe()
    {
        try
        {
            using var engine = new Engine(o => o.MaxStatements(100));
            if (engine.Evaluate("(function (x) { return x + 1 })") is not Function f) return false;
            var arguments = new JsValue[] { JsNumber.Create(41) };
            if (!ExecuteWithConstraints(engine, OptionsOf(engine).Strict, () => CallFunction(engine, f, JsValue.Undefined, arguments, null)).Equals(JsNumber.Create(42)))
                return false;
            // The limits apply per call, as through the public call: an endless loop stops at the statement limit.
            var endless = (Function)engine.Evaluate("(function () { for (;;) {} })");
            try
            {
                ExecuteWithConstraints(engine, false, () => CallFunction(engine, endless, JsValue.Undefined, [], null));
                return false;
            }
            catch (Jint.Runtime.StatementsCountOverflowException)
            {
                return true;
            }
        }
        catch (Exception) // whatever failed: Jint is not as expected, and the public API serves
        {
            return false;
        }
    }
}
