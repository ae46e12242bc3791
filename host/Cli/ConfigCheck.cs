using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Plugins;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost check --config FILE</c> (no script): reads a configuration — pluginhost.yaml, pikachu's config.yaml,
/// go-mysql-kafka's TOML file or directory — exactly as <c>run</c> would, with the sink plugins loaded, and prints every
/// problem at once (exit 1), or its warnings and the pipelines it defines (exit 0). Nothing is connected to.
/// </summary>
internal static class ConfigCheck
{
    public static async Task<int> RunAsync(string path, TextWriter output, TextWriter errors)
    {
        HostConfig config;
        try
        {
            config = ConfigLoader.Load(path, secretsOptional: true);
        }
        catch (ConfigException e)
        {
            await errors.WriteLineAsync($"pluginhost check: {new ConfigException(await ConfigProblems.AllAsync(e).ConfigureAwait(false)).Message}").ConfigureAwait(false);
            return 1;
        }
        foreach (var warning in config.Warnings) await errors.WriteLineAsync($"pluginhost check: {warning}").ConfigureAwait(false);
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        await using (var plugins = new PluginManager(new PluginManagerOptions { Directory = config.PluginsDirectory, Watch = false }, sinks, NullLoggerFactory.Instance))
        {
            await plugins.LoadAllAsync().ConfigureAwait(false);
            try
            {
                RunCommand.ValidateSinks(config, sinks);
            }
            catch (ConfigException e)
            {
                await errors.WriteLineAsync($"pluginhost check: {config.FilePath}: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        }
        await output.WriteLineAsync($"{path}: valid; pipelines: {string.Join(", ", config.Pipelines.Select(p => p.Name))}").ConfigureAwait(false);
        return 0;
    }
}
