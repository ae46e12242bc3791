namespace PluginHost.Sdk;

/// <summary>
/// Marks a public static class whose public static methods transform scripts may call without qualification,
/// e.g. <c>tObfString(s)</c>. Ship such classes in a plugin DLL under <c>plugins_dir</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class HelperFunctionsAttribute : Attribute;
