using PluginHost.Sdk;

namespace PluginHost.Tests.Support;

/// <summary>An <see cref="IPluginLogger"/> that drops every line.</summary>
public sealed class NullPluginLogger : IPluginLogger
{
    public static readonly NullPluginLogger Instance = new();

    public void Info(string message) { }
    public void Warning(string message) { }
    public void Error(string message, Exception? exception = null) { }
}
