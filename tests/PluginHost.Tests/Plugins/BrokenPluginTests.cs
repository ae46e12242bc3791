using Microsoft.Extensions.Logging;
using PluginHost.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// Broken plugin folders (not an assembly, a factory throwing in its constructor, a missing dependency) are rejected
/// with a clear error: in the log (captured from a real <see cref="Microsoft.Extensions.Logging.ILoggerFactory"/>) and
/// in the plugin's status; the good plugins beside them load.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BrokenPluginTests
{
    [Fact]
    public async Task Each_broken_folder_is_failed_with_its_reason_in_the_log_and_the_status()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var box = new PluginSandbox(loggers: loggers);
        BrokenPlugins.Create(built, box.Directory);
        ThirdPartyPlugins.CopyTo(built.Other, box.PluginFolder("good"));

        await box.Manager.LoadAllAsync();

        Assert.Equal(PluginState.Loaded, box.Manager.Find("good")!.State);
        foreach (var (name, reason) in BrokenPlugins.Reasons)
        {
            var status = box.Manager.Find(name)!;
            Assert.Equal(PluginState.Failed, status.State);
            Assert.Null(status.Version);
            Assert.Equal(0, status.Loads);
            Assert.NotNull(status.ErrorAt);
            Assert.Contains(reason, status.Error);
            // One error line naming the plugin, its folder and the same reason.
            var line = Assert.Single(logs.Lines, l => l.StartsWith($"Error PluginHost.Plugins: plugin {name} ", StringComparison.Ordinal));
            Assert.Equal($"Error PluginHost.Plugins: plugin {name} failed to load from {box.PluginFolder(name)}: {status.Error}", line);
        }
        Assert.Contains(logs.Lines, l => l.StartsWith("Information PluginHost.Plugins: 1 plugin(s) loaded from", StringComparison.Ordinal)
                                         && l.EndsWith("; failed: garbage, nodependency, thrower", StringComparison.Ordinal));
        Assert.Equal(["othersink"], box.Catalog.Types.Where(t => t != "file"));
    }

    [Fact]
    public async Task A_rejected_new_version_is_logged_as_rejected_with_the_running_version()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var box = new PluginSandbox(loggers: loggers);
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        await box.Manager.LoadAllAsync();

        ThirdPartyPlugins.CopyTo(built.SinkBroken, folder);
        var status = await box.Manager.ReloadAsync("testsink");

        Assert.Equal((PluginState.Loaded, "1.0.0"), (status!.State, status.Version));
        Assert.Contains("sink factory ThirdParty.Sink.TestSinkFactory threw in its constructor: InvalidOperationException: broken on purpose", status.Error);
        var line = Assert.Single(logs.Lines, l => l.StartsWith("Error PluginHost.Plugins:", StringComparison.Ordinal));
        Assert.Equal($"Error PluginHost.Plugins: plugin testsink: the files in {folder} were rejected, version 1.0.0 keeps running: {status.Error}", line);
    }
}
