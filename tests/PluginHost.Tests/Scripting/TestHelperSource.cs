using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Tests.Scripting;

/// <summary>
/// A stand-in for the plugin loader's helper source: compiles a small helper plugin (a <c>[HelperFunctions]</c> class
/// with <c>tObfString</c>) with Roslyn and loads it into its own collectible context, as the loader does.
/// <see cref="Reload"/> builds and loads a new version and raises <see cref="Changed"/>.
/// </summary>
internal sealed class TestHelperSource : IHelperAssemblySource
{
    /// <summary>tObfString: keeps the first and last character, masks the rest with '*'; 3 characters or fewer are masked whole.</summary>
    public const string DefaultSource = """
        namespace TestHelpers;
        [PluginHost.Sdk.HelperFunctions]
        public static class Functions
        {
            public static string tObfString(string s) =>
                s.Length <= 3 ? new string('*', s.Length) : s[0] + new string('*', s.Length - 2) + s[^1];
            public static string Tag() => "v1";
        }
        """;

    private static readonly Lazy<List<MetadataReference>> References = new(() =>
    {
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var refs = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == dir)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(ChangeEvent).Assembly.Location));
        return refs;
    });

    private readonly string _name;
    private int _generation;
    private IReadOnlyList<HelperAssembly> _current = [];

    public TestHelperSource(string source = DefaultSource, string name = "TestHelpers")
    {
        _name = name;
        Reload(source, raise: false);
    }

    public IReadOnlyList<HelperAssembly> Current => Volatile.Read(ref _current);

    public event Action? Changed;

    /// <summary>The load context of the current helper version (to check it is collected after a reload).</summary>
    public WeakReference CurrentContext { get; private set; } = new(null);

    public void Reload(string source, bool raise = true)
    {
        var generation = ++_generation;
        var tree = CSharpSyntaxTree.ParseText(source);
        var compilation = CSharpCompilation.Create(_name, [tree], References.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var pe = new MemoryStream();
        var result = compilation.Emit(pe);
        if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        var image = pe.ToArray();
        var old = _current.FirstOrDefault();
        var context = new AssemblyLoadContext($"helper {_name} #{generation}", isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(image));
        var types = assembly.GetTypes().Where(t => t.GetCustomAttribute<HelperFunctionsAttribute>() != null).Select(t => t.FullName!).ToList();
        Volatile.Write(ref _current, [new HelperAssembly(_name, $"{_name}#{generation}", assembly, image, types)]);
        CurrentContext = new WeakReference(context);
        if (old != null) AssemblyLoadContext.GetLoadContext(old.Assembly)?.Unload();
        if (raise) Changed?.Invoke();
    }

    /// <summary>Removes every helper (scripts using them no longer compile).</summary>
    public void Clear()
    {
        var old = _current.FirstOrDefault();
        Volatile.Write(ref _current, []);
        if (old != null) AssemblyLoadContext.GetLoadContext(old.Assembly)?.Unload();
        Changed?.Invoke();
    }
}
