using System.Reflection;

namespace PluginHost.Scripting;

/// <summary>A loaded plugin assembly that has <c>[HelperFunctions]</c> classes, for transform scripts to compile against and call.</summary>
/// <param name="PluginName">The plugin (folder) name.</param>
/// <param name="Version">Identifies this load of the plugin (changes on every reload).</param>
/// <param name="Assembly">The assembly, loaded in the plugin's own context.</param>
/// <param name="Image">The assembly's bytes, to compile scripts against.</param>
/// <param name="HelperTypes">Full names of the <c>[HelperFunctions]</c> classes.</param>
internal sealed record HelperAssembly(string PluginName, string Version, Assembly Assembly, byte[] Image, IReadOnlyList<string> HelperTypes);
