using Microsoft.Extensions.Logging;
using PluginHost.Logging;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>A DLL put directly into <c>plugins_dir</c> (not in a plugin folder) is not loaded, and a warning names the layout expected.</summary>
public sealed class LooseDllTests
{
    [Fact]
    public async Task A_dll_dropped_loose_into_a_watched_plugins_dir_gets_a_warning_naming_its_folder()
    {
        var logs = new RecordingLoggerProvider();
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(200), loggers: logs);
        await box.Manager.StartAsync(default);
        Assert.DoesNotContain(logs.Events, e => e.Id.Id == EventIds.PluginLooseDllIgnored);

        // A real plugin DLL (the UserFunctions helper plugin, built beside the tests), dropped without its folder.
        File.Copy(Path.Combine(AppContext.BaseDirectory, "PluginHost.Plugins.UserFunctions.dll"), Path.Combine(box.Directory, "MySink.dll"));

        await Wait.UntilAsync(() => logs.Events.Any(e => e.Id.Id == EventIds.PluginLooseDllIgnored), TimeSpan.FromSeconds(15), "the loose-DLL warning");
        var warning = logs.Events.First(e => e.Id.Id == EventIds.PluginLooseDllIgnored);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.InRange(warning.Id.Id, 4000, 4999); // the Plugins room's range
        Assert.Contains("one folder per plugin", warning.Message);
        Assert.Contains($"{box.Directory}/MySink/MySink.dll", warning.Message);
        Assert.Contains($"dotnet publish -o {box.Directory}/MySink", warning.Message);
        Assert.Empty(box.Manager.Plugins); // not loaded
    }

    [Fact]
    public async Task A_loose_dll_present_at_start_gets_the_same_warning()
    {
        var logs = new RecordingLoggerProvider();
        await using var box = new PluginSandbox(loggers: logs);
        File.WriteAllBytes(Path.Combine(box.Directory, "Stray.dll"), [0x4d, 0x5a]);

        await box.Manager.LoadAllAsync();

        var warning = Assert.Single(logs.Events, e => e.Id.Id == EventIds.PluginLooseDllIgnored);
        Assert.Contains($"{box.Directory}/Stray/Stray.dll", warning.Message);
        Assert.Empty(box.Manager.Plugins);
    }
}
