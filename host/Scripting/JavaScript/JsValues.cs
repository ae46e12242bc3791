using System.Globalization;
using System.Text.Json.Nodes;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using PluginHost.Sdk;

namespace PluginHost.Scripting.JavaScript;

/// <summary>Column and helper values between .NET and JavaScript (see docs/transforms.md#the-prensio-contract-rules).</summary>
internal static class JsValues
{
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    // 0 … 255 boxed once: the flags and counters scripts set (e.changed = 1) need no box per event.
    private const int SmallCount = 256;
    private static readonly object[] Small = Enumerable.Range(0, SmallCount).Select(i => (object)(long)i).ToArray();

    /// <summary>A .NET value as JavaScript: numbers as numbers, text as strings, anything else as its event-JSON text.</summary>
    public static JsValue ToJs(object? value) => value switch
    {
        null => JsValue.Null,
        string s => new JsString(s),
        long l => JsNumber.Create(l),
        int i => JsNumber.Create(i),
        double d => JsNumber.Create(d),
        float f => JsNumber.Create(f),
        bool b => b ? JsBoolean.True : JsBoolean.False,
        ulong u => JsNumber.Create((double)u),
        short or sbyte or byte or ushort or uint => JsNumber.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        JsonNode node => new JsString(node.ToJsonString()),
        _ => new JsString(ChangeEventJson.FormatScalar(value)),
    };

    /// <summary>
    /// The value a script left: <paramref name="original"/> itself when it still is what <see cref="ToJs"/> gave it
    /// (so an unchanged value keeps its .NET type and precision), else <see cref="FromJs(JsValue)"/>.
    /// </summary>
    public static object? FromJs(JsValue value, JsValue? originalJs, object? original)
    {
        if (originalJs is not null && (ReferenceEquals(value, originalJs) || value.Type == originalJs.Type && value.Type is Jint.Runtime.Types.String or Jint.Runtime.Types.Number && value.Equals(originalJs)))
            return original;
        return FromJs(value);
    }

    /// <summary>A JavaScript value as .NET: integral numbers up to 2^53 as <see cref="long"/>, objects and arrays as JSON.</summary>
    public static object? FromJs(JsValue value)
    {
        switch (value.Type)
        {
            case Jint.Runtime.Types.Null or Jint.Runtime.Types.Undefined or Jint.Runtime.Types.Empty:
                return null;
            case Jint.Runtime.Types.String:
                return value.AsString();
            case Jint.Runtime.Types.Boolean:
                return value.AsBoolean();
            case Jint.Runtime.Types.Number:
                var d = value.AsNumber();
                if (!(Math.Abs(d) <= MaxExactInteger && Math.Floor(d) == d && !(d == 0 && double.IsNegative(d)))) return d;
                var l = (long)d;
                return l is >= 0 and < SmallCount ? Small[l] : l;
            case Jint.Runtime.Types.BigInt:
                return value.ToString();
            case Jint.Runtime.Types.Object when value is JsArray or ObjectInstance:
                return ToJson(value, 0);
            default:
                return value.ToString();
        }
    }

    private static JsonNode? ToJson(JsValue value, int depth)
    {
        if (depth > 64) throw new InvalidOperationException("a value nests deeper than 64 levels");
        if (value is JsArray array)
        {
            var list = new JsonArray();
            var length = array.Length;
            for (uint i = 0; i < length; i++) list.Add(ToJson(array.Get(i), depth + 1));
            return list;
        }
        if (value is ObjectInstance o && value.Type == Jint.Runtime.Types.Object && !(o is Jint.Native.Function.Function))
        {
            var obj = new JsonObject();
            foreach (var (key, _) in o.GetOwnProperties())
            {
                if (!key.IsString()) continue;
                obj[key.AsString()] = ToJson(o.Get(key), depth + 1);
            }
            return obj;
        }
        return FromJs(value) switch
        {
            null => null,
            string s => JsonValue.Create(s),
            long l => JsonValue.Create(l),
            double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
            bool b => JsonValue.Create(b),
            var other => JsonValue.Create(other.ToString()),
        };
    }

    /// <summary>A JavaScript value as text (a string, or a number as JavaScript prints it); null for null/undefined.</summary>
    public static string? Text(JsValue value) => value.Type switch
    {
        Jint.Runtime.Types.Null or Jint.Runtime.Types.Undefined => null,
        Jint.Runtime.Types.String => value.AsString(),
        _ => value.ToString(),
    };
}
