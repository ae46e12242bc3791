using Microsoft.Extensions.Logging;
using PluginHost.Logging;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>A plugin folder that appears before its DLL (what <c>dotnet publish -o plugins/X</c> does) is not an error: it loads when the DLL arrives.</summary>
public sealed class PluginCopyInProgressTests
{
    [Fact]
    public async Task A_new_folder_without_its_dll_yet_is_waited_for_not_logged_as_a_failure_and_loads_when_the_dll_arrives()
    {
        var logs = new RecordingLoggerProvider();
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(200), loggers: logs);
        await box.Manager.StartAsync(default);

        // The copy starts with the folder and a file that is not the DLL.
        var folder = Directory.CreateDirectory(box.PluginFolder("PluginHost.Plugins.UserFunctions")).FullName;
        File.WriteAllText(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.deps.json"), "{}");
        await Wait.UntilAsync(() => logs.Events.Any(e => e.Id.Id == EventIds.PluginWaitingForFiles), TimeSpan.FromSeconds(15), "the waiting line");
        var waiting = logs.Events.First(e => e.Id.Id == EventIds.PluginWaitingForFiles);
        Assert.Equal(LogLevel.Information, waiting.Level);
        Assert.Contains("no .dll in", waiting.Message);
        Assert.DoesNotContain(logs.Events, e => e.Level >= LogLevel.Error);
        Assert.Contains("no .dll in", Assert.Single(box.Manager.Plugins).Error); // GET /plugins says why nothing is loaded

        // The DLL arrives: loaded, with no failure logged at any point.
        File.Delete(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.deps.json"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "PluginHost.Plugins.UserFunctions.dll"), Path.Combine(folder, "PluginHost.Plugins.UserFunctions.dll"));
        await Wait.UntilAsync(() => box.Manager.Plugins.Any(p => p.State == PluginHost.Plugins.PluginState.Loaded), TimeSpan.FromSeconds(20),
            "the plugin loaded:\n" + logs.Text);
        Assert.DoesNotContain(logs.Events, e => e.Level >= LogLevel.Error);
    }
}
