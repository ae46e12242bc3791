using System.Text.Json;
using Microsoft.Extensions.Logging;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Checkpoints;

/// <summary>
/// The checkpoint store types a pipeline can choose (<c>checkpoint: { type: … }</c>): the built-in <c>file</c> store,
/// stores registered here, and stores that sink plugins provide — any <see cref="ICheckpointBackendFactory"/> class in
/// the assembly of a registered sink factory (so a plugin reload brings its new store along). Thread-safe.
/// </summary>
internal sealed class CheckpointStoreCatalog(SinkCatalog? sinks = null)
{
    public const string FileType = "file";

    private readonly Dictionary<string, (ICheckpointBackendFactory Factory, string Origin)> _registered = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Registers (or replaces) a factory under its type name.</summary>
    public void Register(ICheckpointBackendFactory factory, string origin)
    {
        if (factory.Type == FileType) throw new ArgumentException($"'{FileType}' is the built-in store", nameof(factory));
        lock (_gate) _registered[factory.Type] = (factory, origin);
    }

    public void Remove(string type)
    {
        lock (_gate) _registered.Remove(type);
    }

    /// <summary>The factory of a non-file store type, or null.</summary>
    public ICheckpointBackendFactory? Find(string type)
    {
        lock (_gate)
            if (_registered.TryGetValue(type, out var r)) return r.Factory;
        return FromPlugins().FirstOrDefault(f => f.Type == type);
    }

    /// <summary>Every known store type, <c>file</c> included.</summary>
    public ISet<string> Types
    {
        get
        {
            var types = new HashSet<string>(StringComparer.Ordinal) { FileType };
            lock (_gate) types.UnionWith(_registered.Keys);
            types.UnionWith(FromPlugins().Select(f => f.Type));
            return types;
        }
    }

    /// <summary>Store factories found in the assemblies of the registered sink factories (made fresh each time: nothing here pins a plugin's load context).</summary>
    private IEnumerable<ICheckpointBackendFactory> FromPlugins()
    {
        if (sinks is null) yield break;
        var assemblies = sinks.Types.Select(sinks.Find).OfType<ISinkFactory>().Select(f => f.GetType().Assembly).Distinct();
        foreach (var assembly in assemblies)
        {
            Type[] types;
            try { types = assembly.GetTypes(); }
            catch (System.Reflection.ReflectionTypeLoadException e) { types = e.Types.OfType<Type>().ToArray(); }
            foreach (var t in types)
            {
                if (!typeof(ICheckpointBackendFactory).IsAssignableFrom(t) || t.IsAbstract || t.IsInterface || t.GetConstructor(Type.EmptyTypes) is null) continue;
                ICheckpointBackendFactory? factory = null;
                try { factory = (ICheckpointBackendFactory)Activator.CreateInstance(t)!; }
                catch (Exception) { /* a broken factory is simply not offered */ }
                if (factory != null) yield return factory;
            }
        }
    }

    /// <summary>
    /// The store a pipeline uses: <paramref name="fileStore"/> for <c>file</c>, otherwise a new store from its factory
    /// (dispose it with <see cref="IAsyncDisposable"/> when the pipeline ends). Throws <see cref="SinkConfigurationException"/>
    /// (key relative to <c>checkpoint</c>) for an unknown type or bad settings.
    /// </summary>
    public ICheckpointStore Open(PipelineDefinition definition, HostConfig config, ICheckpointStore fileStore, ILoggerFactory loggers)
    {
        var options = definition.Options.Checkpoint;
        if (options.Type == FileType) return fileStore;
        var factory = Find(options.Type)
                      ?? throw new SinkConfigurationException("type", $"unknown checkpoint store '{options.Type}' (known: {string.Join(", ", Types.Order())})");
        var logger = new PluginLogger(loggers.CreateLogger($"PluginHost.Checkpoints.{options.Type}"), definition);
        var settings = JsonSerializer.SerializeToElement(options.Settings);
        ICheckpointBackend backend;
        try
        {
            backend = factory.Create(new CheckpointBackendContext(definition.Name, settings, definition.SinkSettings, logger, config.BaseDirectory));
        }
        catch (SinkConfigurationException e)
        {
            throw new SinkConfigurationException(e.Key is "type" ? "type" : "settings." + e.Key, e.Message[(e.Key.Length + 2)..]);
        }
        var store = new BackendCheckpointStore(backend);
        return WriteGuard is { } guard ? new GuardedCheckpointStore(store, guard) : store;
    }

    /// <summary>Asked before every write of a plugin store: a refusal reason (the write throws) or null (cluster mode sets it).</summary>
    public Func<string, string?>? WriteGuard { get; set; }

    /// <summary>Opens (then disposes) each pipeline's store so unknown types and bad settings are reported at start, all together.</summary>
    public void Validate(HostConfig config, List<ConfigError> errors)
    {
        var file = new FileCheckpointStore(config.StateDirectory);
        foreach (var p in config.Pipelines)
        {
            if (p.Options.Checkpoint.Type == FileType) continue;
            try
            {
                var store = Open(p, config, file, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
                (store as IAsyncDisposable)?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (SinkConfigurationException e)
            {
                errors.Add(new ConfigError(config.FilePath, p.Name, "checkpoint." + e.Key, e.Message[(e.Key.Length + 2)..]));
            }
        }
    }
}
