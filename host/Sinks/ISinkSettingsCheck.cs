using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>
/// A built-in sink whose settings can be checked without opening its output. Checking a definition sent over the API
/// must not touch what the running pipeline writes: opening a file sink repairs a torn last line, which cut the running
/// pipeline's write in progress off (the file then held zeros where its rows were).
/// </summary>
internal interface ISinkSettingsCheck
{
    /// <summary>Throws <see cref="SinkConfigurationException"/> for bad settings; opens, creates and changes nothing.</summary>
    void Check(SinkContext context);
}
