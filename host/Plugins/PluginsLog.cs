using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Plugins;

/// <summary>The log lines of the Plugins room (event ids 4000-4999).</summary>
internal static partial class PluginsLog
{
    [LoggerMessage(EventIds.PluginsDirectoryMissing, LogLevel.Information, "plugins directory {Directory} does not exist: no plugins loaded")]
    public static partial void PluginsDirectoryMissing(this ILogger logger, string directory);

    [LoggerMessage(EventIds.PluginLooseDllIgnored, LogLevel.Warning,
        "ignoring {File} directly in {Directory}: plugins_dir holds one folder per plugin, e.g. {Directory}/{Name}/{File} with its .deps.json and dependencies (dotnet publish -o {Directory}/{Name} makes it)")]
    public static partial void LooseDllIgnored(this ILogger logger, string file, string directory, string name);

    [LoggerMessage(EventIds.PluginsLoaded, LogLevel.Information, "{Loaded} plugin(s) loaded from {Directory}{Failed}")]
    public static partial void PluginsLoaded(this ILogger logger, int loaded, string directory, string failed);

    [LoggerMessage(EventIds.PluginsCannotWatch, LogLevel.Error, "cannot watch the plugins directory {Directory}: {Error}; plugins will not hot-reload")]
    public static partial void PluginsCannotWatch(this ILogger logger, string directory, string error);

    [LoggerMessage(EventIds.PluginsWatching, LogLevel.Information, "watching {Directory} for plugin changes")]
    public static partial void PluginsWatching(this ILogger logger, string directory);

    [LoggerMessage(EventIds.PluginsWatcherLostEvents, LogLevel.Warning, "the plugins directory watcher lost events; rescanning {Directory}")]
    public static partial void PluginsWatcherLostEvents(this ILogger logger, string directory);

    [LoggerMessage(EventIds.PluginsBackgroundLoadFailed, LogLevel.Error, "loading the plugins of {Directory} failed: {Error}; no plugin is loaded (no pipeline needed one to start)")]
    public static partial void PluginsBackgroundLoadFailed(this ILogger logger, Exception exception, string directory, string error);

    [LoggerMessage(EventIds.PluginHelperHandlerFailed, LogLevel.Error, "a helper-assembly change handler failed: {Error}")]
    public static partial void HelperHandlerFailed(this ILogger logger, Exception exception, string error);

    [LoggerMessage(EventIds.PluginStatusHandlerFailed, LogLevel.Error, "a plugin status handler failed: {Error}")]
    public static partial void StatusHandlerFailed(this ILogger logger, Exception exception, string error);

    [LoggerMessage(EventIds.PluginReloadFailedUnexpectedly, LogLevel.Error, "plugin {Plugin}: reload failed unexpectedly: {Error}")]
    public static partial void ReloadFailedUnexpectedly(this ILogger logger, Exception exception, string plugin, string error);

    [LoggerMessage(EventIds.PluginFilesUnchanged, LogLevel.Debug, "plugin {Plugin}: files unchanged, not reloaded")]
    public static partial void FilesUnchanged(this ILogger logger, string plugin);

    [LoggerMessage(EventIds.PluginWaitingForFiles, LogLevel.Information,
        "plugin {Plugin}: no .dll in {Folder} yet (files still being copied?); it loads when they arrive")]
    public static partial void WaitingForFiles(this ILogger logger, string plugin, string folder);

    [LoggerMessage(EventIds.PluginLoaded, LogLevel.Information, "plugin {Plugin} {Version} loaded ({File}): sinks [{Sinks}], helpers [{Helpers}]")]
    public static partial void PluginLoaded(this ILogger logger, string plugin, string version, string file, string sinks, string helpers);

    [LoggerMessage(EventIds.PluginReloaded, LogLevel.Information,
        "plugin {Plugin} reloaded: {Old} → {Version} (load #{Load}): sinks [{Sinks}], helpers [{Helpers}]; {Count} pipeline(s) switch at their next transaction boundary")]
    public static partial void PluginReloaded(this ILogger logger, string plugin, string old, string version, int load, string sinks, string helpers, int count);

    [LoggerMessage(EventIds.PluginFilesRejected, LogLevel.Error, "plugin {Plugin}: the files in {Folder} were rejected, version {Version} keeps running: {Error}")]
    public static partial void FilesRejected(this ILogger logger, string plugin, string folder, string version, string? error);

    [LoggerMessage(EventIds.PluginFailedToLoad, LogLevel.Error, "plugin {Plugin} failed to load from {Folder}: {Error}")]
    public static partial void FailedToLoad(this ILogger logger, string plugin, string folder, string? error);

    [LoggerMessage(EventIds.PluginRemoved, LogLevel.Information, "plugin {Plugin} {Version} removed (its folder is gone)")]
    public static partial void PluginRemoved(this ILogger logger, string plugin, string version);

    [LoggerMessage(EventIds.PluginPipelineSwitching, LogLevel.Information, "pipeline {Pipeline}: switching to plugin {Plugin} {Version} at its next transaction boundary")]
    public static partial void PipelineSwitching(this ILogger logger, string pipeline, string plugin, string version);

    [LoggerMessage(EventIds.PluginPipelineCannotCreateSink, LogLevel.Error, "pipeline {Pipeline}: cannot create its {Type} sink from plugin {Plugin} {Version}: {Error}")]
    public static partial void PipelineCannotCreateSink(this ILogger logger, string pipeline, string type, string plugin, string version, string error);

    [LoggerMessage(EventIds.PluginSinkDisposeFailed, LogLevel.Warning, "pipeline {Pipeline}: disposing a sink that {Why} failed: {Error}")]
    public static partial void SinkDisposeFailed(this ILogger logger, string pipeline, string why, string error);

    [LoggerMessage(EventIds.PluginRejectedSinkDisposeFailed, LogLevel.Warning, "disposing a sink of a rejected plugin version failed: {Error}")]
    public static partial void RejectedSinkDisposeFailed(this ILogger logger, string error);

    [LoggerMessage(EventIds.PluginLoadUnloaded, LogLevel.Debug, "plugin {Plugin}: load #{Generation} unloaded")]
    public static partial void LoadUnloaded(this ILogger logger, string plugin, int generation);

    [LoggerMessage(EventIds.PluginCollectingFailed, LogLevel.Debug, "collecting retired plugin versions failed: {Error}")]
    public static partial void CollectingFailed(this ILogger logger, string error);

    // A plugin's own lines (IPluginLogger), with the pipeline name; ids of the Pipelines range, kept as they were.
    [LoggerMessage(EventIds.PluginInfo, LogLevel.Information, "pipeline {Pipeline}: {Message}")]
    public static partial void PluginInfo(this ILogger logger, string pipeline, string message);

    [LoggerMessage(EventIds.PluginWarning, LogLevel.Warning, "pipeline {Pipeline}: {Message}")]
    public static partial void PluginWarning(this ILogger logger, string pipeline, string message);

    [LoggerMessage(EventIds.PluginError, LogLevel.Error, "pipeline {Pipeline}: {Message}")]
    public static partial void PluginError(this ILogger logger, Exception? exception, string pipeline, string message);
}
