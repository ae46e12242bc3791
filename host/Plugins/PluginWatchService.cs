using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PluginHost.Plugins;

/// <summary>
/// Hot reload: waits for <see cref="PluginWatcher"/> to report plugin folders that changed and are quiet again, and
/// has the <see cref="PluginManager"/> reload them (every folder when the OS lost events), then unload retired versions
/// nothing uses any more. Owns the watcher; started and stopped by the manager.
/// </summary>
internal sealed class PluginWatchService(PluginManager plugins, PluginWatcher watcher, TimeSpan debounce, ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the host's start goes on; the loop runs on the thread pool
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(debounce.TotalMilliseconds / 4, 10, 100));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (watcher.HasPending) await Task.Delay(tick, stoppingToken).ConfigureAwait(false);
                else await watcher.Signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
                var (names, rescan) = watcher.TakeDue();
                if (rescan) logger.PluginsWatcherLostEvents(plugins.Directory);
                await plugins.ReloadChangedAsync(names, rescan, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        watcher.Dispose();
    }
}
