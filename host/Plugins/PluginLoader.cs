using System.Reflection;
using System.Runtime.Loader;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>One successfully loaded and validated version of a plugin, in its own collectible context.</summary>
internal sealed class LoadedPlugin
{
    internal LoadedPlugin(string name, string folder, string version, PluginLoadContext context, Assembly assembly,
        IReadOnlyList<ISinkFactory> factories, IReadOnlyList<string> helperTypes, byte[] image)
    {
        Name = name;
        Folder = folder;
        Version = version;
        Context = context;
        Assembly = assembly;
        Factories = factories;
        HelperTypes = helperTypes;
        SinkTypes = factories.Select(f => f.Type).Order(StringComparer.Ordinal).ToList();
        Helpers = helperTypes.Count == 0 ? null : new HelperAssembly(name, $"{version}#{context.Generation}", assembly, image, helperTypes);
        LoadedAt = DateTimeOffset.UtcNow;
    }

    public string Name { get; }
    public string Folder { get; }

    /// <summary>Informational version of the main assembly (without a <c>+commit</c> suffix).</summary>
    public string Version { get; }

    public PluginLoadContext Context { get; }
    public int Generation => Context.Generation;
    public Assembly Assembly { get; }
    public IReadOnlyList<ISinkFactory> Factories { get; }
    public IReadOnlyList<string> SinkTypes { get; }
    public IReadOnlyList<string> HelperTypes { get; }

    /// <summary>Its helper assembly for scripts, or null when it has no <c>[HelperFunctions]</c> class.</summary>
    public HelperAssembly? Helpers { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>Catalog origin of its sink types: <c>plugin NAME VERSION</c>.</summary>
    public string Origin => $"plugin {Name} {Version}";

    public ISinkFactory? FactoryFor(string sinkType) => Factories.FirstOrDefault(f => f.Type == sinkType);
}

/// <summary>
/// Loads one version of a plugin folder into a new <see cref="PluginLoadContext"/> and validates it: the main DLL
/// (see <see cref="PluginFolder"/>), every dependency it references (transitively, so a missing DLL is reported now
/// rather than at the first event), its types, its sink factories (created once: a throwing constructor or an empty
/// <c>Type</c> rejects the plugin) and its <c>[HelperFunctions]</c> classes. On any failure the new context is
/// unloaded and a <see cref="PluginLoadException"/> says why; nothing is registered anywhere.
/// </summary>
internal static class PluginLoader
{
    public static LoadedPlugin Load(string name, string folder, int generation, string shadowRoot)
    {
        var mainPath = PluginFolder.FindMainAssembly(folder);
        PluginLoadContext context;
        try
        {
            context = new PluginLoadContext(name, generation, mainPath, shadowRoot);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
        {
            throw new PluginLoadException($"cannot read the dependencies of {Path.GetFileName(mainPath)} ({Path.GetFileName(Path.ChangeExtension(mainPath, ".deps.json"))}): {e.Message}", e);
        }
        try
        {
            return LoadInto(context, name, folder, mainPath);
        }
        catch (Exception e)
        {
            context.Unload();
            if (e is PluginLoadException) throw;
            throw new PluginLoadException($"{Path.GetFileName(mainPath)}: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private static LoadedPlugin LoadInto(PluginLoadContext context, string name, string folder, string mainPath)
    {
        var file = Path.GetFileName(mainPath);
        Assembly assembly;
        try
        {
            assembly = context.LoadMainAssembly();
        }
        catch (BadImageFormatException e)
        {
            throw new PluginLoadException($"{file} is not a valid .NET assembly: {e.Message}", e);
        }
        catch (FileLoadException e)
        {
            throw new PluginLoadException($"{file} cannot be loaded: {e.Message}", e);
        }

        CheckDependencies(context, assembly);

        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            var reasons = e.LoaderExceptions.OfType<Exception>().Select(x => x.Message).Distinct().Take(3);
            throw new PluginLoadException($"{file}: some types cannot be loaded: {string.Join("; ", reasons)}", e);
        }

        var factories = new List<ISinkFactory>();
        var helpers = new List<string>();
        foreach (var type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.IsDefined(typeof(HelperFunctionsAttribute), inherit: false))
            {
                if (!(type.IsAbstract && type.IsSealed) || !type.IsPublic)
                    throw new PluginLoadException($"{file}: [HelperFunctions] class {type.FullName} must be a public static class");
                helpers.Add(type.FullName!);
            }
            if (!typeof(ISinkFactory).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface || type.ContainsGenericParameters)
                continue;
            factories.Add(CreateFactory(file, type));
        }
        var duplicate = factories.GroupBy(f => f.Type, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new PluginLoadException($"{file}: several sink factories have type '{duplicate.Key}' ({string.Join(", ", duplicate.Select(f => f.GetType().FullName))})");
        if (factories.Count == 0 && helpers.Count == 0)
            throw new PluginLoadException($"{file} has no sink factory (a class implementing {typeof(ISinkFactory).FullName}) and no [HelperFunctions] class");

        var image = context.ImageOf(assembly) ?? [];
        return new LoadedPlugin(name, folder, VersionOf(assembly), context, assembly, factories, helpers, image);
    }

    private static ISinkFactory CreateFactory(string file, Type type)
    {
        var constructor = type.GetConstructor(Type.EmptyTypes)
                          ?? throw new PluginLoadException($"{file}: sink factory {type.FullName} needs a public parameterless constructor");
        ISinkFactory factory;
        try
        {
            factory = (ISinkFactory)constructor.Invoke(null);
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            throw new PluginLoadException($"{file}: sink factory {type.FullName} threw in its constructor: {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
        string sinkType;
        try
        {
            sinkType = factory.Type;
        }
        catch (Exception e)
        {
            throw new PluginLoadException($"{file}: sink factory {type.FullName} threw reading its Type: {e.GetType().Name}: {e.Message}", e);
        }
        if (string.IsNullOrWhiteSpace(sinkType) || sinkType.Any(char.IsWhiteSpace))
            throw new PluginLoadException($"{file}: sink factory {type.FullName} has an invalid Type '{sinkType}' (a non-empty name without spaces, e.g. webhook)");
        return factory;
    }

    /// <summary>
    /// Resolves every assembly the plugin references, following those that come from its own folder, so a missing
    /// or incompatible dependency is found at load time with its name.
    /// </summary>
    private static void CheckDependencies(PluginLoadContext context, Assembly main)
    {
        var queue = new Queue<Assembly>();
        queue.Enqueue(main);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (queue.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is null || !seen.Add(reference.FullName)) continue;
                // A framework assembly of a sufficient version is there by definition: it loads when first used
                // (loading System.Net.Http and friends here only to look at them cost idle hosts megabytes).
                if (PluginLoadContext.IsFrameworkAssembly(reference)) continue;
                Assembly dependency;
                try
                {
                    dependency = context.LoadFromAssemblyName(reference);
                }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    var by = assembly.GetName().Name;
                    if (reference.Name.Equals(PluginFolder.SdkAssemblyName, StringComparison.OrdinalIgnoreCase))
                    {
                        var hostSdk = typeof(ISink).Assembly.GetName().Version;
                        throw new PluginLoadException($"{by} was built against {reference.Name} {reference.Version}, newer than the host's {hostSdk}; rebuild it against this host's sdk", e);
                    }
                    var why = e is FileNotFoundException
                        ? "it is neither in the plugin folder (nor its .deps.json) nor in the shared framework"
                        : e.Message;
                    throw new PluginLoadException($"missing dependency {reference.Name} {reference.Version} (referenced by {by}): {why}", e);
                }
                if (AssemblyLoadContext.GetLoadContext(dependency) == context) queue.Enqueue(dependency);
            }
        }
    }

    private static string VersionOf(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            var plus = informational.IndexOf('+');
            return plus > 0 ? informational[..plus] : informational;
        }
        return assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }
}
