using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Tests.Plugins;

/// <summary>A temp plugins directory with a manager over it (not watching unless asked); deleted on dispose.</summary>
internal sealed class PluginSandbox : IAsyncDisposable
{
    public PluginSandbox(bool watch = false, TimeSpan? debounce = null, Func<PluginHost.Pipelines.PipelineManager?>? pipelines = null, string? directory = null,
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
        }, Catalog, loggers ?? NullLoggerFactory.Instance, pipelines);
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
        return factory.Create(new SinkContext("test", doc.RootElement.Clone(), new NullPluginLogger(), Root));
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        try { System.IO.Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private sealed class NullPluginLogger : IPluginLogger
    {
        public void Info(string message) { }
        public void Warning(string message) { }
        public void Error(string message, Exception? exception = null) { }
    }
}

internal static class Wait
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(25);
        }
    }
}
