namespace PluginHost.Config;

/// <summary>A configuration was rejected; <see cref="Errors"/> lists every problem found.</summary>
internal sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception($"invalid configuration ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;

    /// <summary>
    /// The configuration as far as it could be read (null when the file is not a readable mapping): lets checks that
    /// need loaded plugins (sink settings) add their errors to these, so that every problem is reported at once.
    /// </summary>
    public HostConfig? Partial { get; init; }

    /// <summary>Renames the keys of errors found later in <see cref="Partial"/> the way <see cref="Errors"/> are named (a pikachu file: its own keys).</summary>
    public Func<ConfigError, ConfigError> NameKeys { get; init; } = e => e;
}
