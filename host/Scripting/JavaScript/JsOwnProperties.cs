using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;

namespace PluginHost.Scripting.JavaScript;

/// <summary>
/// Reads an object's own string-keyed properties back (name, value as <c>o[name]</c> gives it, so a getter is called), in
/// the order <see cref="ObjectInstance.GetOwnProperties"/> gives them. A plain object whose keys start with no digit is
/// read through its key list (the shape's cached key strings: no descriptor and no key string made per property);
/// any other object through <see cref="ObjectInstance.GetOwnProperties"/> (insertion order, index-like keys included).
/// One list, reused (one transform, one thread): read it before the next call.
/// </summary>
internal sealed class JsOwnProperties
{
    private readonly List<KeyValuePair<string, JsValue>> _read = new(16);

    /// <summary>The properties of <paramref name="o"/> but those <paramref name="skip"/> names (their values are not read).</summary>
    public List<KeyValuePair<string, JsValue>> Read(ObjectInstance o, Func<string, bool>? skip = null)
    {
        _read.Clear();
        if (o is JsObject)
        {
            var keys = o.GetOwnPropertyKeys(Types.String);
            var plain = true;
            foreach (var k in keys)
                if (k.AsString() is { Length: > 0 } n && char.IsAsciiDigit(n[0]))
                {
                    plain = false; // ordered as array indices first by the key list, in insertion order by the enumeration
                    break;
                }
            if (plain)
            {
                foreach (var k in keys)
                {
                    var name = k.AsString();
                    if (skip?.Invoke(name) != true) _read.Add(new(name, o.Get(k)));
                }
                return _read;
            }
        }
        foreach (var (key, descriptor) in o.GetOwnProperties())
        {
            if (!key.IsString()) continue;
            var name = key.AsString();
            if (skip?.Invoke(name) != true) _read.Add(new(name, JsRows.ValueOf(o, key, descriptor)));
        }
        return _read;
    }
}
