using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Plugins;

namespace PluginHost.Cli;

/// <summary>
/// Every problem of a configuration in one pass: a rejected file's errors plus what the sink plugins say about each
/// pipeline's sink settings (unknown keys, bad values, unknown sink types), which needs the plugins loaded first.
/// </summary>
internal static class ConfigProblems
{
    /// <summary>The errors of <paramref name="rejected"/> and of the sinks of its partly read configuration, in file order.</summary>
    public static async Task<IReadOnlyList<ConfigError>> AllAsync(ConfigException rejected)
    {
        if (rejected.Partial is not { } partial) return rejected.Errors;
        var sinkErrors = new List<ConfigError>();
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        var plugins = new PluginManager(new PluginManagerOptions { Directory = partial.PluginsDirectory, Watch = false }, sinks, NullLoggerFactory.Instance);
        try
        {
            await plugins.LoadAllAsync().ConfigureAwait(false);
            // Pipelines whose sink is already at fault (no sink, no type) have nothing more to say.
            var faulted = rejected.Errors.Where(e => e.Key is "sink" or "sink.type").Select(e => e.Pipeline).ToHashSet();
            var checkable = partial.Pipelines.Where(p => p.Name.Length > 0 && p.SinkType.Length > 0 && !faulted.Contains(p.Name)).ToList();
            RunCommand.ValidateSinks(new HostConfig(partial.Options, partial.FilePath, checkable), sinks);
        }
        catch (ConfigException e)
        {
            sinkErrors.AddRange(e.Errors.Select(rejected.NameKeys));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            sinkErrors.Add(new ConfigError(partial.FilePath, null, "plugins_dir", $"the sink plugins could not be loaded to check sink settings: {e.Message}"));
        }
        finally
        {
            await plugins.DisposeAsync().ConfigureAwait(false);
        }
        var seen = rejected.Errors.ToHashSet();
        return [.. rejected.Errors, .. sinkErrors.Where(seen.Add)];
    }
}
