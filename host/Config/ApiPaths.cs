using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>
/// Confines the paths of pipelines defined over the REST API (<see cref="PipelineDefinition.FromApi"/>): what they
/// write (sink paths, dead-letter files) must lie in <c>output_dir</c> and not in <c>state_dir</c>,
/// <c>transforms_dir</c> or <c>plugins_dir</c> (unless <c>output_dir</c> itself is inside one of them); a transform
/// must be an existing regular file in <c>transforms_dir</c>. Symbolic links (in any component) and <c>..</c> are
/// resolved before the check, and the resolved path is the one used. Paths of the configuration file are not confined.
/// </summary>
internal static class ApiPaths
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>The path a pipeline set over the API may write: full, links resolved, inside <c>output_dir</c>; else <see cref="SinkConfigurationException"/> naming <paramref name="key"/>.</summary>
    public static string Output(HostConfig config, string key, string value)
    {
        var output = Canonical(config.OutputDirectory);
        var full = Canonical(Path.Combine(config.OutputDirectory, value));
        if (!IsUnder(full, output) || string.Equals(full, output, PathComparison))
            throw new SinkConfigurationException(key,
                $"'{value}' is outside output_dir ({config.OutputDirectory}): a pipeline set over the REST API writes only there (symbolic links and .. resolved)");
        foreach (var (name, dir) in new[] { ("state_dir", config.StateDirectory), ("transforms_dir", config.TransformsDirectory), ("plugins_dir", config.PluginsDirectory) })
        {
            var guarded = Canonical(dir);
            if (IsUnder(full, guarded) && !IsUnder(output, guarded))
                throw new SinkConfigurationException(key, $"'{value}' is inside {name} ({dir}), which a pipeline set over the REST API may not write");
        }
        return full;
    }

    /// <summary>The transform file of a pipeline set over the API, or <see cref="SinkConfigurationException"/> (key <c>transform</c>).</summary>
    public static string Transform(HostConfig config, string value)
    {
        var file = config.ResolveTransform(value);
        var real = Canonical(file);
        if (!IsUnder(real, Canonical(config.TransformsDirectory)))
            throw new SinkConfigurationException("transform",
                $"'{value}' is not in transforms_dir ({config.TransformsDirectory}, symbolic links resolved): a transform set over the REST API must be a file there");
        if (!File.Exists(real))
            throw new SinkConfigurationException("transform", $"'{value}' is not a file in transforms_dir ({config.TransformsDirectory})");
        return file;
    }

    /// <summary>The path problems of a pipeline set over the API (<c>transform</c>, <c>dead_letter</c>), as configuration errors.</summary>
    public static List<ConfigError> Check(PipelineDefinition definition, HostConfig config, string source)
    {
        var errors = new List<ConfigError>();
        void Try(Action check)
        {
            try
            {
                check();
            }
            catch (SinkConfigurationException e)
            {
                errors.Add(new ConfigError(source, definition.Name, e.Key, e.Message[(e.Key.Length + 2)..]));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors.Add(new ConfigError(source, definition.Name, "(path)", e.Message));
            }
        }
        if (definition.TransformPath is { } transform) Try(() => Transform(config, transform));
        foreach (var rule in definition.TransformRules ?? [])
            if (rule.File is { } file) Try(() => Transform(config, file));
        if (definition.DeadLetterPath is { } deadLetter) Try(() => Output(config, "dead_letter", deadLetter));
        return errors;
    }

    /// <summary>What a sink factory gets: for a pipeline set over the API, relative paths start in <c>output_dir</c> and <see cref="SinkContext.ResolvePath"/> confines them.</summary>
    public static SinkContext SinkContext(PipelineDefinition definition, HostConfig? config, IPluginLogger logger)
    {
        if (config is null || !definition.FromApi)
            return new SinkContext(definition.Name, definition.SinkSettings, logger, config?.BaseDirectory ?? Environment.CurrentDirectory);
        return new SinkContext(definition.Name, definition.SinkSettings, logger, config.OutputDirectory)
        {
            PathResolver = (key, value) => Output(config, key, value),
        };
    }

    /// <summary>
    /// True when compiler messages about <paramref name="scriptFile"/> may quote it: the file it really is (links
    /// followed) is a <c>.csx</c> or <c>.js</c> file. Messages about anything else (a link to a token file) show codes and positions only.
    /// </summary>
    public static bool QuotesSource(string scriptFile)
    {
        try
        {
            var real = Canonical(scriptFile);
            return real.EndsWith(".csx", StringComparison.OrdinalIgnoreCase) || real.EndsWith(".js", StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary><paramref name="path"/> made absolute with every symbolic link resolved, in any component (what realpath gives; the missing tail is kept as is).</summary>
    public static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(Parts(full[root.Length..]).Reverse());
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Combine(current, part);
            string? target;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                target = null;
            }
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > 40) throw new IOException($"{path}: too many levels of symbolic links");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(Path.GetFullPath(target))!;
            foreach (var p in Parts(Path.IsPathRooted(target) ? target[Path.GetPathRoot(target)!.Length..] : target).Reverse()) pending.Push(p);
        }
        return current;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or inside it (both canonical).</summary>
    public static bool IsUnder(string path, string root)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        return string.Equals(path, r, PathComparison) ||
               path.StartsWith(r + Path.DirectorySeparatorChar, PathComparison) ||
               r.Length == Path.GetPathRoot(r)?.Length && path.StartsWith(r, PathComparison);
    }

    private static string[] Parts(string path) => path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
}
