using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>Binds a JSON settings block to an options object (snake_case keys, durations, strict about unknown keys).</summary>
public static class SettingsBinder
{
    /// <summary>Binds <paramref name="settings"/> (an object) to a new <typeparamref name="T"/>; the root <c>type</c> key is ignored.</summary>
    public static T Bind<T>(JsonElement settings) where T : new() => (T)BindObject(typeof(T), settings, "", null, ignoreType: true);

    /// <summary>
    /// Binds like <see cref="Bind{T}(JsonElement)"/> but collects every problem into <paramref name="errors"/> instead of
    /// stopping at the first; <paramref name="path"/> prefixes the keys reported.
    /// </summary>
    public static T Bind<T>(JsonElement settings, List<SinkConfigurationException> errors, string path = "", bool ignoreType = false) where T : new()
    {
        try
        {
            return (T)BindObject(typeof(T), settings, path, errors, ignoreType);
        }
        catch (SinkConfigurationException e)
        {
            errors.Add(e);
            return new T();
        }
    }

    private static object BindObject(Type type, JsonElement json, string path, List<SinkConfigurationException>? errors, bool ignoreType = false)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new SinkConfigurationException(Name(path), "must be a mapping");
        var target = Activator.CreateInstance(type)!;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .ToDictionary(p => Normalize(p.Name), StringComparer.Ordinal);
        foreach (var prop in json.EnumerateObject())
        {
            if (ignoreType && prop.Name == "type") continue;
            var key = path.Length == 0 ? prop.Name : $"{path}.{prop.Name}";
            try
            {
                if (!properties.TryGetValue(Normalize(prop.Name), out var p))
                    throw new SinkConfigurationException(key, $"unknown setting (known: {string.Join(", ", properties.Values.Select(v => ToSnake(v.Name)))})");
                if (prop.Value.ValueKind == JsonValueKind.Null && !p.PropertyType.IsValueType && IsDeclaredNotNull(p))
                {
                    // An empty YAML value (`password:`) for a non-nullable setting: "" for text, the default otherwise.
                    if (p.PropertyType == typeof(string)) p.SetValue(target, "");
                    continue;
                }
                p.SetValue(target, Convert(p.PropertyType, prop.Value, key, errors));
            }
            catch (SinkConfigurationException e) when (errors != null)
            {
                errors.Add(e);
            }
        }
        return target;
    }

    private static object? Convert(Type type, JsonElement v, string path, List<SinkConfigurationException>? errors = null)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (type == typeof(JsonElement)) return v.Clone();
        if (v.ValueKind == JsonValueKind.Null)
        {
            if (!type.IsValueType || underlying != null) return null;
            throw new SinkConfigurationException(path, "must not be null");
        }
        type = underlying ?? type;
        try
        {
            if (type == typeof(string)) return v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText();
            if (type == typeof(bool))
                return v.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.String when bool.TryParse(v.GetString(), out var b) => b,
                    _ => throw new SinkConfigurationException(path, "must be true or false"),
                };
            if (type == typeof(TimeSpan)) return ParseDuration(v, path);
            if (type.IsEnum)
            {
                var text = v.GetString()?.Replace("_", "").Replace("-", "");
                if (text != null && Enum.TryParse(type, text, ignoreCase: true, out var e)) return e;
                throw new SinkConfigurationException(path, $"must be one of {string.Join(", ", Enum.GetNames(type).Select(ToSnake))}");
            }
            if (type.IsPrimitive || type == typeof(decimal))
            {
                var text = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                return System.Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
            }
            if (type.IsArray)
            {
                var items = ConvertList(type.GetElementType()!, v, path, errors);
                var array = Array.CreateInstance(type.GetElementType()!, items.Count);
                items.CopyTo(array, 0);
                return array;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() is var def &&
                (def == typeof(List<>) || def == typeof(IReadOnlyList<>) || def == typeof(IList<>)))
                return ConvertList(type.GetGenericArguments()[0], v, path, errors);
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Dictionary<,>) || type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            {
                var valueType = type.GetGenericArguments()[1];
                var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType))!;
                if (v.ValueKind != JsonValueKind.Object) throw new SinkConfigurationException(path, "must be a mapping");
                foreach (var p in v.EnumerateObject()) dict[p.Name] = Convert(valueType, p.Value, $"{path}.{p.Name}", errors);
                return dict;
            }
            if (type == typeof(JsonElement)) return v.Clone();
            return BindObject(type, v, path, errors);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or InvalidOperationException)
        {
            throw new SinkConfigurationException(path, $"'{v}' is not a valid {FriendlyName(type)}");
        }
    }

    private static IList ConvertList(Type element, JsonElement v, string path, List<SinkConfigurationException>? errors)
    {
        if (v.ValueKind != JsonValueKind.Array) throw new SinkConfigurationException(path, "must be a list");
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        var i = 0;
        foreach (var item in v.EnumerateArray()) list.Add(Convert(element, item, $"{path}[{i++}]", errors));
        return list;
    }

    /// <summary>Parses <c>250ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, a TimeSpan (<c>00:00:30</c>) or a number of seconds.</summary>
    public static TimeSpan ParseDuration(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.Number) return TimeSpan.FromSeconds(v.GetDouble());
        var text = v.GetString()?.Trim() ?? "";
        if (TryParseDuration(text, out var t)) return t;
        throw new SinkConfigurationException(path, $"'{text}' is not a duration (e.g. 500ms, 30s, 5m, 1h)");
    }

    /// <summary>Parses a duration text; see <see cref="ParseDuration"/>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, ms) in units)
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) &&
                !(suffix == "s" && text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                value = TimeSpan.FromMilliseconds(n * ms);
                return n >= 0;
            }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    private static bool IsDeclaredNotNull(PropertyInfo p) =>
        new NullabilityInfoContext().Create(p).WriteState == NullabilityState.NotNull;

    private static string Normalize(string name) => name.Replace("_", "").Replace("-", "").Replace(".", "").ToLowerInvariant();

    /// <summary>PascalCase → snake_case.</summary>
    public static string ToSnake(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    private static string FriendlyName(Type t) => t == typeof(int) || t == typeof(long) ? "whole number" : t.Name.ToLowerInvariant();
    private static string Name(string path) => path.Length == 0 ? "sink" : path;
}
