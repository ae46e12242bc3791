namespace PluginHost.Plugins;

/// <summary>A plugin (version) could not be loaded or failed validation; the message says why, for the log and <c>GET /plugins</c>.</summary>
internal sealed class PluginLoadException(string message, Exception? inner = null) : Exception(message, inner);
