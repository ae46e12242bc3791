using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>The sink types the host knows: built-in ones and those plugins provide. Thread-safe; plugins replace their entries on reload.</summary>
internal sealed class SinkCatalog
{
    private readonly Dictionary<string, (ISinkFactory Factory, string Origin)> _factories = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Registers (or replaces) a factory under its type name.</summary>
    public void Register(ISinkFactory factory, string origin)
    {
        lock (_gate) _factories[factory.Type] = (factory, origin);
    }

    public void Remove(string type)
    {
        lock (_gate) _factories.Remove(type);
    }

    public ISinkFactory? Find(string type)
    {
        lock (_gate) return _factories.TryGetValue(type, out var f) ? f.Factory : null;
    }

    /// <summary>Where a sink type comes from ("built-in" or a plugin name and version).</summary>
    public string? OriginOf(string type)
    {
        lock (_gate) return _factories.TryGetValue(type, out var f) ? f.Origin : null;
    }

    public ISet<string> Types
    {
        get { lock (_gate) return new HashSet<string>(_factories.Keys, StringComparer.Ordinal); }
    }
}
