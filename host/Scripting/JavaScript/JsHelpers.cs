using System.Reflection;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Runtime.Interop;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// The helper plugins' functions (public static methods of their <c>[HelperFunctions]</c> classes) as global
/// JavaScript functions of the same name. Arguments convert as column values do (<c>null</c>/<c>undefined</c> → null);
/// among overloads the first whose parameter count and types fit the arguments is called.
/// </summary>
internal static class JsHelpers
{
    /// <summary>Helper methods by name, over <paramref name="helpers"/> (first plugin wins on a clash).</summary>
    public static Dictionary<string, (HelperAssembly Helper, MethodInfo[] Overloads)> Find(IReadOnlyList<HelperAssembly> helpers)
    {
        var found = new Dictionary<string, (HelperAssembly, MethodInfo[])>(StringComparer.Ordinal);
        foreach (var h in helpers)
            foreach (var typeName in h.HelperTypes)
            {
                if (h.Assembly.GetType(typeName) is not { } type) continue;
                foreach (var group in type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => !m.IsSpecialName && !m.ContainsGenericParameters).GroupBy(m => m.Name))
                    found.TryAdd(group.Key, (h, group.OrderBy(m => m.GetParameters().Length).ToArray()));
            }
        return found;
    }

    /// <summary>The helper plugins whose functions <paramref name="source"/> names.</summary>
    public static IReadOnlyList<HelperAssembly> UsedBy(string source, Dictionary<string, (HelperAssembly Helper, MethodInfo[] Overloads)> functions) =>
        functions.Where(f => Regex.IsMatch(source, $@"(?<![\w$]){Regex.Escape(f.Key)}(?![\w$])")).Select(f => f.Value.Helper).Distinct().ToList();

    /// <summary>
    /// Declares every function of <paramref name="functions"/> in <paramref name="engine"/>; with <paramref name="watch"/>
    /// each call is timed by it (<paramref name="script"/> names the caller in its messages).
    /// </summary>
    public static void Register(Engine engine, Dictionary<string, (HelperAssembly Helper, MethodInfo[] Overloads)> functions, JsHelperWatch? watch = null, string script = "")
    {
        foreach (var (name, (helper, overloads)) in functions)
        {
            var invokers = overloads.Select(m => (Method: m, Parameters: m.GetParameters(), Invoker: MethodInvoker.Create(m))).ToArray();
            var site = new JsHelperSite(script, name, helper.PluginName);
            engine.SetValue(name, new ClrFunction(engine, name, (_, args) => Call(name, invokers, args, watch, site), invokers[0].Parameters.Length));
        }
    }

    private static JsValue Call(string name, (MethodInfo Method, ParameterInfo[] Parameters, MethodInvoker Invoker)[] overloads, JsValue[] args,
        JsHelperWatch? watch, JsHelperSite site)
    {
        foreach (var (method, parameters, invoker) in overloads)
        {
            if (!TryConvert(parameters, args, out var values)) continue;
            object? result;
            var token = watch?.Enter(site) ?? 0;
            var threw = true;
            try
            {
                result = invoker.Invoke(null, new Span<object?>(values));
                threw = false;
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                throw inner;
            }
            finally
            {
                watch?.Exit(token, threw); // throws when the call outlasted the limit: the event fails with a timeout
            }
            return method.ReturnType == typeof(void) ? JsValue.Undefined : JsValues.ToJs(result);
        }
        throw new InvalidOperationException($"no overload of {name} takes ({string.Join(", ", args.Select(JsRows.Describe))}); it takes " +
                                            string.Join(" or ", overloads.Select(o => "(" + string.Join(", ", o.Parameters.Select(p => p.ParameterType.Name)) + ")")));
    }

    private static bool TryConvert(ParameterInfo[] parameters, JsValue[] args, out object?[] values)
    {
        values = new object?[parameters.Length];
        if (args.Length > parameters.Length) return false;
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (i >= args.Length)
            {
                if (!p.HasDefaultValue) return false;
                values[i] = p.DefaultValue;
                continue;
            }
            if (!TryConvert(args[i], p.ParameterType, out values[i])) return false;
        }
        return true;
    }

    private static bool TryConvert(JsValue arg, Type type, out object? value)
    {
        value = null;
        var clr = JsValues.FromJs(arg);
        var underlying = Nullable.GetUnderlyingType(type);
        if (clr is null) return !type.IsValueType || underlying != null; // null rules: as a C# caller passing null
        var target = underlying ?? type;
        if (target == typeof(object)) { value = clr; return true; }
        if (target == typeof(string)) { value = clr as string; return clr is string; }
        if (target == typeof(bool)) { value = clr; return clr is bool; }
        if (clr is long or double && (target.IsPrimitive || target == typeof(decimal)) && target != typeof(char))
        {
            try
            {
                value = Convert.ChangeType(clr, target, System.Globalization.CultureInfo.InvariantCulture);
                return clr is long || target == typeof(double) || target == typeof(float) || target == typeof(decimal);
            }
            catch (OverflowException)
            {
                return false;
            }
        }
        if (target.IsInstanceOfType(clr)) { value = clr; return true; }
        return false;
    }
}
