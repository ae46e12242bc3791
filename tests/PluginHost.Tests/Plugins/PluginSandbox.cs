using PluginHost.Hosting;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Plugins;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

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
