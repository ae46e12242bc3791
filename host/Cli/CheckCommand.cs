using System.CommandLine;
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
/// <c>pluginhost check SCRIPT.csx|SCRIPT.js [--event SAMPLE.json] [--plugins DIR | --config FILE] [--timeout DURATION]</c>:
/// compiles a transform script exactly as a pipeline would (same helper plugins, same implicit usings, same loop
/// guards) and runs it on a sample event (a built-in one unless <c>--event</c> names a file holding one event, a JSON
/// array of events or JSON lines). Prints each resulting event as event JSON on stdout, one per line; diagnostics,
/// drops and errors on stderr. Exit code 0 when it compiles and every sample transforms, 1 otherwise, 2 on bad usage.
/// </summary>
internal static class CheckCommand
{
    /// <summary>The event used without <c>--event</c>: an update of a users row with text, e-mail and audit columns.</summary>
    public const string BuiltInSample = """
        {"op":"update","database":"shop","table":"users","before":{"id":42,"name":"Ann Smith","email":"ann@example.com","text_col":"hello world","password_hash":"$2b$12$Qv3cT9x","created_by":"admin","updated_at":"2026-11-20 09:00:00"},"after":{"id":42,"name":"Ann Smith","email":"ann.smith@example.com","text_col":"hello there","password_hash":"$2b$12$Qv3cT9x","created_by":"admin","updated_at":"2026-11-21 10:00:00"},"gtid":"0-1-42","file":"mysql-bin.000001","pos":1234,"ts":"2026-11-21T10:00:00Z"}
        """;

    /// <summary>What <c>check</c> was asked to do.</summary>
    public sealed record Request(string Script, string? EventFile, string? PluginsDirectory, string? ConfigPath, string? Timeout, string? Contract = null);

    /// <summary><c>check SCRIPT.csx [--event FILE] [--plugins DIR | --config FILE] [--timeout DURATION]</c>.</summary>
    public static Command Create()
    {
        var script = new Argument<string>("SCRIPT") { Description = "The transform script (.csx, or .js) to compile or load and run", Arity = ArgumentArity.ZeroOrOne };
        var sample = new Option<string>("--event") { Description = "A sample: one event JSON, an array of them or JSON lines (default: a built-in update of shop.users)", HelpName = "FILE" };
        var plugins = new Option<string>("--plugins") { Description = "Take helper functions from the plugins in DIR (default: the config's plugins_dir, else the built plugins)", HelpName = "DIR" };
        var config = CliOptions.Config("Take helper functions from this configuration's plugins_dir");
        var pikachuConfig = CliOptions.PikachuConfig();
        var timeout = new Option<string>("--timeout") { Description = "The transform's time limit per event (default 1s)", HelpName = "DURATION" };
        var contract = new Option<string>("--contract")
        {
            Description = "A .js's contract: prensio (function transform(cdc_event), ACTION_CONT/ACTION_DROP) or native (function transform(event)); default: prensio when the script reads like one",
            HelpName = "native|prensio",
        };
        contract.AcceptOnlyFromAmong("native", "prensio");
        var command = new Command("check", "Compile a transform script as a pipeline would and run it on a sample event, printing the resulting " +
                                           "event JSON (stdout) or the compiler's diagnostics (stderr); with --config and no script, read " +
                                           "the configuration (YAML, pikachu, go-mysql-kafka TOML file or folder) as run would and list every problem") { script, sample, plugins, config, pikachuConfig, timeout, contract };
        command.SetAction((r, _) => r.GetValue(script) is null
            ? r.GetConfig(config, pikachuConfig) is { } configOnly
                // check --config FILE|DIR without a script: read the configuration as run would and list every problem.
                ? ConfigCheck.RunAsync(configOnly, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error)
                : MissingScriptAsync(r.InvocationConfiguration.Error)
            : RunAsync(new Request(r.GetValue(script)!, r.GetValue(sample), r.GetValue(plugins), r.GetConfig(config, pikachuConfig), r.GetValue(timeout), r.GetValue(contract)),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static async Task<int> MissingScriptAsync(TextWriter error)
    {
        await error.WriteLineAsync("pluginhost check: SCRIPT is missing: the transform script (.csx) to compile and run\n" +
                                   "usage: pluginhost check SCRIPT [options]\n('pluginhost check --help' lists every option; exit code 2: nothing was done)").ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    /// <summary>Runs <c>pluginhost check ARGS</c> through the command line (parsing included), with the given outputs.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter? stdout = null, TextWriter? stderr = null) =>
        PluginHostCommandLine.InvokeAsync(["check", .. args], stdout, stderr);

    /// <summary>Compiles and runs the script; exit code 0 when every sample transforms, 1 when not, 2 on bad input.</summary>
    public static async Task<int> RunAsync(Request request, TextWriter output, TextWriter errors)
    {
        var script = request.Script;
        if (!File.Exists(script))
        {
            await errors.WriteLineAsync($"pluginhost check: {script}: not found").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        var timeout = TimeSpan.FromSeconds(1);
        if (request.Timeout is { } t)
        {
            if (!SettingsBinder.TryParseDuration(t, out timeout) || timeout <= TimeSpan.Zero)
            {
                await errors.WriteLineAsync($"pluginhost check: --timeout {t}: not a duration (e.g. 500ms, 2s)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        List<ChangeEvent> samples;
        try
        {
            samples = request.EventFile is { } eventFile ? ReadSamples(File.ReadAllText(eventFile)) : ReadSamples(BuiltInSample);
        }
        catch (Exception e) when (e is IOException or JsonException or FormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"pluginhost check: cannot read the sample event: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        string? pluginsDir;
        try
        {
            pluginsDir = PluginsDirectory(request);
        }
        catch (ConfigException e)
        {
            await errors.WriteLineAsync($"pluginhost check: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = pluginsDir, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync().ConfigureAwait(false);
        foreach (var failed in plugins.Plugins.Where(p => p.State == PluginState.Failed))
            await errors.WriteLineAsync($"pluginhost check: warning: plugin {failed.Name} did not load: {failed.Error}").ConfigureAwait(false);

        var clock = Stopwatch.StartNew();
        if (script.EndsWith(".js", StringComparison.OrdinalIgnoreCase))
        {
            var js = await CheckJavaScript.LoadAsync(script, request.Contract, plugins.Current, timeout, errors).ConfigureAwait(false);
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

    private static string PluginsDirectory(Request request)
    {
        if (request.PluginsDirectory is { } dir) return Path.GetFullPath(dir);
        // Only plugins_dir is needed: secrets the configuration takes from the environment may be unset here.
        if (request.ConfigPath is { } config) return ConfigLoader.Load(config, secretsOptional: true).PluginsDirectory;
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
