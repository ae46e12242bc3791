using PluginHost.Tests.Support;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Tests.Plugins;

/// <summary>A temp plugins directory with a manager over it (not watching unless asked); deleted on dispose.</summary>
internal sealed class PluginSandbox : IAsyncDisposable
{
    public PluginSandbox(bool watch = false, TimeSpan? debounce = null, string? directory = null,
        ILoggerFactory? loggers = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "pluginhost-plugintest-" + Guid.NewGuid().ToString("N")[..8]);
        Directory = directory ?? Path.Combine(Root, "plugins");
        System.IO.Directory.CreateDirectory(Directory);
        Catalog = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        Manager = new PluginManager(new PluginManagerOptions
        {
            Directory = Directory,
            Watch = watch,
            DebounceDelay = debounce ?? TimeSpan.FromMilliseconds(250),
            ShadowDirectory = Path.Combine(Root, "shadow"),
        }, Catalog, loggers ?? NullLoggerFactory.Instance);
    }

    public string Root { get; }
    public string Directory { get; }
    public SinkCatalog Catalog { get; }
    public PluginManager Manager { get; }

    public string PluginFolder(string name) => Path.Combine(Directory, name);

    public ISink CreateSink(string type, string json)
    {
        var factory = Catalog.Find(type) ?? throw new InvalidOperationException($"no sink type {type}");
        using var doc = JsonDocument.Parse(json);
        return factory.Create(new SinkContext("test", doc.RootElement.Clone(), NullPluginLogger.Instance, Root));
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        try { System.IO.Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>zlib, shipped inside a test plugin as its own native library <c>libpluginnative.so</c> (what <c>tNativeVersion</c> calls).</summary>
internal static class NativeTestLibrary
{
    /// <summary>Copies zlib into <paramref name="folder"/> and names it in the <c>ThirdParty.Sink.deps.json</c> "native" assets, as a build output does.</summary>
    public static void AddTo(string folder)
    {
        var zlib = new[] { "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/libz.so.1" }
            .FirstOrDefault(File.Exists);
        Assert.True(zlib != null, "zlib (zlib1g, installed by scripts/setup.sh) is needed as the stand-in native library");
        const string native = "libpluginnative.so";
        File.Copy(zlib!, Path.Combine(folder, native), overwrite: true);
        var depsPath = Path.Combine(folder, "ThirdParty.Sink.deps.json");
        var deps = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(depsPath))!;
        var target = deps["targets"]!.AsObject().First().Value!.AsObject();
        var self = target.First(kv => kv.Key.StartsWith("ThirdParty.Sink/", StringComparison.Ordinal)).Value!.AsObject();
        self["native"] = new System.Text.Json.Nodes.JsonObject { [native] = new System.Text.Json.Nodes.JsonObject() };
        File.WriteAllText(depsPath, deps.ToJsonString());
    }
}

internal static class Wait
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => Poll.UntilAsync(condition, timeout, () => what);
}
