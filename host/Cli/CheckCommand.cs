using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost check SCRIPT.csx [--event SAMPLE.json] [--plugins DIR | --config FILE] [--timeout DURATION]</c>:
/// compiles a transform script exactly as a pipeline would (same helper plugins, same implicit usings, same loop
/// guards) and runs it on a sample event (a built-in one unless <c>--event</c> names a file holding one event, a JSON
/// array of events or JSON lines). Prints each resulting event as event JSON on stdout, one per line; diagnostics,
/// drops and errors on stderr. Exit code 0 when it compiles and every sample transforms, 1 otherwise, 2 on bad usage.
/// </summary>
internal static class CheckCommand
{
    private const string Usage = """
        usage: pluginhost check SCRIPT.csx|SCRIPT.js [--event SAMPLE.json] [--plugins DIR | --config FILE] [--timeout DURATION] [--contract native|prensio]
          compiles a transform script and runs it on a sample event (built in, or from SAMPLE.json: one event,
          an array of events or JSON lines), printing the resulting event JSON or the compiler's diagnostics.
          Helper functions come from the plugins in DIR (default: the config's plugins_dir, else the built plugins).
          A .js runs as a prensio rule when it defines transform(cdc_event) or uses ACTION_CONT/ACTION_DROP, else
          on the native contract (--contract decides).
        """;

    /// <summary>The event used without <c>--event</c>: an update of a users row with text, e-mail and audit columns.</summary>
    public const string BuiltInSample = """
        {"op":"update","database":"shop","table":"users","before":{"id":42,"name":"Ann Smith","email":"ann@example.com","text_col":"hello world","password_hash":"$2b$12$Qv3cT9x","created_by":"admin","updated_at":"2026-11-20 09:00:00"},"after":{"id":42,"name":"Ann Smith","email":"ann.smith@example.com","text_col":"hello there","password_hash":"$2b$12$Qv3cT9x","created_by":"admin","updated_at":"2026-11-21 10:00:00"},"gtid":"0-1-42","file":"mysql-bin.000001","pos":1234,"ts":"2026-11-21T10:00:00Z"}
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var errors = stderr ?? Console.Error;
        var script = args.FirstOrDefault(a => !a.StartsWith('-') && !IsOptionValue(args, a));
        if (script is null || args.Contains("--help") || args.Contains("-h"))
        {
            await errors.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        if (!File.Exists(script))
        {
            await errors.WriteLineAsync($"pluginhost check: {script}: not found").ConfigureAwait(false);
            return 2;
        }
        var timeout = TimeSpan.FromSeconds(1);
        if (RunCommand.Option(args, "--timeout") is { } t)
        {
            if (!SettingsBinder.TryParseDuration(t, out timeout) || timeout <= TimeSpan.Zero)
            {
                await errors.WriteLineAsync($"pluginhost check: --timeout {t}: not a duration (e.g. 500ms, 2s)").ConfigureAwait(false);
                return 2;
            }
        }

        List<ChangeEvent> samples;
        try
        {
            samples = RunCommand.Option(args, "--event") is { } eventFile ? ReadSamples(File.ReadAllText(eventFile)) : ReadSamples(BuiltInSample);
        }
        catch (Exception e) when (e is IOException or JsonException or FormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"pluginhost check: cannot read the sample event: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        string? pluginsDir;
        try
        {
            pluginsDir = PluginsDirectory(args);
        }
        catch (ConfigException e)
        {
            await errors.WriteLineAsync($"pluginhost check: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = pluginsDir, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync().ConfigureAwait(false);
        foreach (var failed in plugins.Plugins.Where(p => p.State == PluginState.Failed))
            await errors.WriteLineAsync($"pluginhost check: warning: plugin {failed.Name} did not load: {failed.Error}").ConfigureAwait(false);

        var clock = Stopwatch.StartNew();
        if (script.EndsWith(".js", StringComparison.OrdinalIgnoreCase))
        {
            var js = await CheckJavaScript.LoadAsync(script, args, plugins.Current, timeout, errors).ConfigureAwait(false);
            if (js is null) return 1;
            using (js)
            {
                await errors.WriteLineAsync($"{script}: loaded in {clock.ElapsedMilliseconds} ms as {js.Version} ({(js.IsPrensio ? "prensio contract: function transform(cdc_event)" : "native contract: function transform(event)")}); " +
                                            $"helpers: {HelperList(plugins.Current)}").ConfigureAwait(false);
                return await RunSamplesAsync(js, samples, timeout, output, errors, "transform returned null, [] or ACTION_DROP").ConfigureAwait(false);
            }
        }
        var build = ScriptCompiler.Compile(script, await File.ReadAllTextAsync(script).ConfigureAwait(false), plugins.Current);
        foreach (var d in build.Diagnostics.OrderBy(d => d.IsError ? 0 : 1).ThenBy(d => d.Line))
            await errors.WriteLineAsync(d.ToString()).ConfigureAwait(false);
        if (!build.Success)
        {
            await errors.WriteLineAsync($"{script}: {build.Diagnostics.Count(d => d.IsError)} error(s); helper functions from {pluginsDir}: {HelperList(plugins.Current)}").ConfigureAwait(false);
            return 1;
        }
        CompiledTransform transform;
        try
        {
            transform = CompiledTransform.Load(build, timeout);
        }
        catch (ScriptCompilationException e)
        {
            foreach (var d in e.Diagnostics) await errors.WriteLineAsync(d.ToString()).ConfigureAwait(false);
            return 1;
        }
        using (transform)
        {
            await errors.WriteLineAsync($"{script}: compiled in {clock.ElapsedMilliseconds} ms as {transform.Version} ({Describe(transform.Shape)}); helpers: {HelperList(plugins.Current)}").ConfigureAwait(false);
            return await RunSamplesAsync(transform, samples, timeout, output, errors,
                $"Transform returned {(transform.Shape == TransformShape.Many ? "no events" : "null")}").ConfigureAwait(false);
        }
    }

    /// <summary>Runs each sample through <paramref name="transform"/>, printing results on stdout and drops, destinations and errors on stderr.</summary>
    private static async Task<int> RunSamplesAsync(IEventTransform transform, List<ChangeEvent> samples, TimeSpan timeout, TextWriter output, TextWriter errors, string dropped)
    {
        {
            var exit = 0;
            var results = new List<ChangeEvent>();
            for (var i = 0; i < samples.Count; i++)
            {
                results.Clear();
                var sample = samples[i];
                // On a thread of its own: a script blocked outside any loop it can interrupt (a sleep, a blocking call,
                // a helper that never returns) cannot be stopped, but check must still end, with an error.
                var run = Task.Factory.StartNew(() => transform.Apply(sample, results), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                var limit = timeout + (timeout > TimeSpan.FromSeconds(2) ? timeout : TimeSpan.FromSeconds(2));
                if (await Task.WhenAny(run, Task.Delay(limit)).ConfigureAwait(false) != run)
                {
                    await errors.WriteLineAsync($"event {i + 1}: the transform did not return within {limit.TotalSeconds:0.###} s (time limit {timeout.TotalSeconds:0.###} s): " +
                        "it is blocked outside any loop or function entry the limit can interrupt").ConfigureAwait(false);
                    await output.FlushAsync().ConfigureAwait(false);
                    return 1; // the blocked thread is a background thread: it does not keep the process alive
                }
                try
                {
                    await run.ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await errors.WriteLineAsync($"event {i + 1}: the transform failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
                    exit = 1;
                    continue;
                }
                if (results.Count == 0) await errors.WriteLineAsync($"event {i + 1}: dropped ({dropped})").ConfigureAwait(false);
                foreach (var r in results)
                {
                    await output.WriteLineAsync(ChangeEventJson.Serialize(r)).ConfigureAwait(false);
                    if (r.Destination != null) await errors.WriteLineAsync($"event {i + 1}: destination {r.Destination}").ConfigureAwait(false); // not part of the event JSON
                    if (r.Key != null) await errors.WriteLineAsync($"event {i + 1}: key {r.Key}").ConfigureAwait(false);
                }
            }
            await output.FlushAsync().ConfigureAwait(false);
            return exit;
        }
    }

    private static bool IsOptionValue(IReadOnlyList<string> args, string value)
    {
        for (var i = 1; i < args.Count; i++)
            if (ReferenceEquals(args[i], value) && args[i - 1] is "--event" or "--plugins" or "--config" or "-c" or "--timeout" or "--contract") return true;
        return false;
    }

    private static string PluginsDirectory(IReadOnlyList<string> args)
    {
        if (RunCommand.Option(args, "--plugins") is { } dir) return Path.GetFullPath(dir);
        // Only plugins_dir is needed: secrets the configuration takes from the environment may be unset here.
        if ((RunCommand.Option(args, "--config") ?? RunCommand.Option(args, "-c")) is { } config) return ConfigLoader.Load(config, secretsOptional: true).PluginsDirectory;
        return PluginDirectories.BuiltPlugins;
    }

    private static string HelperList(IReadOnlyList<HelperAssembly> helpers) =>
        helpers.Count == 0 ? "none" : string.Join(", ", helpers.SelectMany(h => h.HelperTypes.Select(t => $"{t} ({h.PluginName})")));

    private static string Describe(TransformShape shape) => shape switch
    {
        TransformShape.Single => "one event in, one or none out",
        TransformShape.Many => "fan-out",
        _ => "mutates in place",
    };

    /// <summary>One event object, an array of them, or JSON lines; each bounded like every JSON from outside (<see cref="BoundedJson"/>).</summary>
    internal static List<ChangeEvent> ReadSamples(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
            return (BoundedJson.Parse(trimmed) as JsonArray ?? throw new FormatException("expected an array of events"))
                .Select(n => ChangeEventJson.Parse(n?.ToJsonString() ?? throw new FormatException("null in the array of events"))).ToList();
        try
        {
            BoundedJson.Check(System.Text.Encoding.UTF8.GetBytes(trimmed));
            return [ChangeEventJson.Parse(trimmed)];
        }
        catch (FormatException e) when (e.Message.StartsWith("not valid JSON", StringComparison.Ordinal) && trimmed.Contains('\n'))
        {
            return trimmed.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Select(l =>
            {
                BoundedJson.Check(System.Text.Encoding.UTF8.GetBytes(l));
                return ChangeEventJson.Parse(l);
            }).ToList();
        }
    }
}
