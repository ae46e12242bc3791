using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Sdk;

namespace PluginHost.Cli;

/// <summary>
/// <c>pluginhost deadletter replay FILE [--config FILE] [--pipeline NAME] [--delete]</c>: sends the events of a webhook
/// dead-letter file again through the pipeline's sink (to the task each one failed on). Without <c>--config</c> the
/// configuration is found as <see cref="FindConfig"/> says. The file is first moved
/// aside (<c>FILE.replaying-…</c>), so a running pipeline keeps dead-lettering into a fresh file and whatever fails
/// again lands there; on success the moved file becomes <c>FILE.replayed-…</c> (or is deleted with <c>--delete</c>).
/// <c>pluginhost deadletter show FILE</c> summarises a file.
/// </summary>
internal static class DeadLetterCommand
{
    /// <summary><c>deadletter replay FILE [--config FILE] [--pipeline NAME] [--delete]</c> and <c>deadletter show FILE</c>.</summary>
    public static Command Create()
    {
        var replayFile = new Argument<string>("FILE") { Description = "The dead-letter file (JSON lines) to send again" };
        var config = CliOptions.Config("The configuration whose pipeline sends the events (default: the first of ./pluginhost.yaml, " +
                                       "./config.yaml, then the one in FILE's folder or above whose webhook pipeline writes FILE)");
        var pikachuConfig = CliOptions.PikachuConfig();
        var pipeline = new Option<string>("--pipeline") { Description = "The pipeline whose sink sends them (needed when the configuration has several)", HelpName = "NAME" };
        var delete = new Option<bool>("--delete") { Description = "Delete the replayed file instead of keeping it as FILE.replayed-TIME" };
        var replay = new Command("replay", "Re-send the events of a dead-letter file through the pipeline's sink, each to the task it failed on")
            { replayFile, config, pikachuConfig, pipeline, delete };
        replay.SetAction(async (r, ct) =>
        {
            var file = r.GetValue(replayFile)!;
            var o = r.InvocationConfiguration.Error;
            if (!File.Exists(file)) return await NotFoundAsync(o, file).ConfigureAwait(false);
            return await ReplayAsync(file, r.GetConfig(config, pikachuConfig), r.GetValue(pipeline), r.GetValue(delete), o, null, ct).ConfigureAwait(false);
        });
        var showFile = new Argument<string>("FILE") { Description = "The dead-letter file (JSON lines) to summarise" };
        var show = new Command("show", "Count the events of a dead-letter file by task, status and error") { showFile };
        show.SetAction(async (r, _) =>
        {
            var file = r.GetValue(showFile)!;
            if (!File.Exists(file)) return await NotFoundAsync(r.InvocationConfiguration.Error, file).ConfigureAwait(false);
            return Show(file, r.InvocationConfiguration.Output);
        });
        return new Command("deadletter", "Replay or summarise the dead letters of a webhook pipeline (or of a transform's on_error: dead_letter)") { replay, show };
    }

    private static async Task<int> NotFoundAsync(TextWriter o, string file)
    {
        await o.WriteLineAsync($"pluginhost deadletter: {file}: not found").ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    /// <summary>One line of a dead-letter file, read back.</summary>
    /// <param name="Event">The event, with transaction id, index and key columns restored and <see cref="ChangeEvent.Destination"/> = the task.</param>
    public sealed record Entry(ChangeEvent Event, string? Task, string? Url, int? Status, string? Error, int Attempts, string? Stage);

    /// <summary>
    /// Parses a dead-letter line: <c>{"event":{…},"task","url","status","error","attempts","transaction","index","key","at"}</c>
    /// (webhook sink) or <c>{"event":{…},"stage","error","at"}</c> (a transform's dead letters). The transaction id and
    /// index are restored so a re-sent event keeps its <c>webhook-id</c>; the key columns so it keeps its row lane.
    /// </summary>
    public static Entry Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var ev) || ev.ValueKind != JsonValueKind.Object)
            throw new FormatException("not a dead-letter line (no \"event\" object)");
        var e = ChangeEventJson.Parse(ev.GetRawText());
        string? Str(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        if (Str("transaction") is { } tx)
        {
            e.TransactionId = tx;
            if (root.TryGetProperty("index", out var i) && i.TryGetInt32(out var index)) e.IndexInTransaction = index;
        }
        if (root.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.Array && e.Current is { } row)
        {
            var keyNames = key.EnumerateArray().Select(k => k.GetString() ?? "").ToList();
            var columns = row.Keys.Select(c => new ColumnInfo(c, ColumnKind.Unknown, keyNames.Contains(c))).ToList();
            foreach (var k in keyNames.Where(k => !row.ContainsKey(k))) columns.Add(new ColumnInfo(k, ColumnKind.Unknown, true));
            e.Schema = new TableInfo(e.Database, e.Table, columns);
        }
        var task = Str("task");
        e.Destination = task;
        int? status = root.TryGetProperty("status", out var st) && st.TryGetInt32(out var s) ? s : null;
        var attempts = root.TryGetProperty("attempts", out var at) && at.TryGetInt32(out var a) ? a : 0;
        return new Entry(e, task, Str("url"), status, Str("error"), attempts, Str("stage"));
    }

    private static int Show(string file, TextWriter o)
    {
        var (entries, bad) = Read(file);
        o.WriteLine($"{file}: {entries.Count} event(s){(bad.Count > 0 ? $", {bad.Count} unreadable line(s) ({string.Join(", ", bad.Take(10))})" : "")}");
        foreach (var g in entries.GroupBy(e => (e.Task ?? e.Stage ?? "?", e.Status)).OrderByDescending(g => g.Count()))
        {
            var first = g.First();
            o.WriteLine($"  {g.Count(),8}  task {g.Key.Item1}  status {(g.Key.Status?.ToString(CultureInfo.InvariantCulture) ?? "-")}  {first.Url}  e.g. {first.Error}");
        }
        return bad.Count > 0 ? 1 : 0;
    }

    private static (List<Entry> Entries, List<int> BadLines) Read(string file)
    {
        var entries = new List<Entry>();
        var bad = new List<int>();
        var n = 0;
        foreach (var line in File.ReadLines(file))
        {
            n++;
            if (line.Length == 0) continue;
            try
            {
                entries.Add(Parse(line));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                bad.Add(n);
            }
        }
        return (entries, bad);
    }

    /// <summary>Replays <paramref name="file"/> through the sink of a pipeline of <paramref name="configPath"/>.</summary>
    /// <param name="sinks">The sink types to use (null: the built-in ones and the plugins, as <c>run</c> loads them).</param>
    /// <returns>0 when everything was delivered, 1 when some events failed again (or lines were unreadable), 2 on usage errors.</returns>
    public static async Task<int> ReplayAsync(string file, string? configPath, string? pipelineName, bool delete, TextWriter o,
        SinkCatalog? sinks, CancellationToken ct)
    {
        if (configPath is null)
        {
            configPath = FindConfig(file);
            if (configPath is null)
            {
                await o.WriteLineAsync(
                    $"pluginhost deadletter replay: no configuration for {file}: pass --config FILE. Looked for ./{NativeConfigName} and " +
                    $"./{PikachuConfigName} (pikachu's) in {Directory.GetCurrentDirectory()}, and for a {NativeConfigName} or {PikachuConfigName} in " +
                    $"{Path.GetDirectoryName(Path.GetFullPath(file))} or a folder above it with a webhook pipeline whose dead_letter is this file. " +
                    "The dead-letter records name each event's task and URL, but not the task's headers, authentication or signing secret, " +
                    "so they are not sent without the pipeline's configuration").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            await o.WriteLineAsync($"using the configuration {configPath}").ConfigureAwait(false);
        }
        HostConfig config;
        try
        {
            config = ConfigLoader.Load(configPath);
        }
        catch (ConfigException e)
        {
            await o.WriteLineAsync($"pluginhost: {configPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        using var loggers = LoggerFactory.Create(b => b.AddPluginHostLogging(config.Options.Log));
        // The sink types: built-in ones and the plugins of plugins_dir, loaded as `run` loads them (kept loaded
        // until the replaying sink is disposed).
        PluginManager? plugins = null;
        if (sinks is null)
        {
            sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
            plugins = new PluginManager(new PluginManagerOptions { Directory = config.PluginsDirectory, Watch = false }, sinks, loggers);
            await plugins.LoadAllAsync(ct).ConfigureAwait(false);
        }
        await using var pluginScope = plugins;
        var candidates = config.Pipelines.Where(p => pipelineName is null || p.Name == pipelineName).ToList();
        if (pipelineName is null && candidates.Count > 1) candidates = candidates.Where(p => p.SinkType == "webhook").ToList();
        if (pipelineName is null && candidates.Count > 1 && candidates.Where(p => WritesDeadLetter(config, p, file)).ToList() is [var writer])
            candidates = [writer];
        if (candidates.Count != 1)
        {
            await o.WriteLineAsync(pipelineName is null
                ? $"pluginhost deadletter replay: {configPath} has {candidates.Count} candidate pipelines; name one with --pipeline ({string.Join(", ", config.Pipelines.Select(p => p.Name))})"
                : $"pluginhost deadletter replay: no pipeline '{pipelineName}' in {configPath} ({string.Join(", ", config.Pipelines.Select(p => p.Name))})").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        var pipeline = candidates[0];

        if (sinks.Find(pipeline.SinkType) is not { } factory)
        {
            await o.WriteLineAsync($"pluginhost deadletter replay: pipeline '{pipeline.Name}': unknown sink type '{pipeline.SinkType}' " +
                                   $"(known: {string.Join(", ", sinks.Types.Order())}; plugins come from {config.PluginsDirectory})").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        var logger = new PluginLogger(loggers.CreateLogger($"PluginHost.Sink.{pipeline.SinkType}"), ReplayName(pipeline), Secrets.ValuesOf(pipeline));
        ISink sink;
        try
        {
            sink = factory.Create(new SinkContext(ReplayName(pipeline), pipeline.SinkSettings, logger, config.BaseDirectory));
        }
        catch (SinkConfigurationException e)
        {
            await o.WriteLineAsync($"pluginhost: {configPath}: pipeline '{pipeline.Name}': sink.{e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        await using var _ = sink.ConfigureAwait(false);
        // Move the file aside first, so the running pipeline (if any) dead-letters into a fresh one from now on.
        // A file that is already a moved-aside copy (an interrupted replay) is replayed where it is.
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        var working = file;
        if (!Path.GetFileName(file).Contains(".replaying-", StringComparison.Ordinal))
        {
            working = $"{file}.replaying-{stamp}";
            File.Move(file, working);
            await o.WriteLineAsync($"moved {file} to {working}").ConfigureAwait(false);
        }
        // Wait for a dead-letter write in flight (writers hold an exclusive lock while appending).
        for (var i = 0; ; i++)
        {
            try
            {
                using var probe = new FileStream(working, FileMode.Open, FileAccess.Read, FileShare.None);
                break;
            }
            catch (IOException) when (i < 100)
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }

        var (entries, bad) = Read(working);
        if (bad.Count > 0)
        {
            await o.WriteLineAsync($"pluginhost deadletter replay: {working}: unreadable line(s) {string.Join(", ", bad.Take(20))}; nothing was sent").ConfigureAwait(false);
            return 1;
        }
        var transformStage = entries.Count(e => e.Stage is not null && e.Task is null);
        if (transformStage > 0)
            await o.WriteLineAsync($"note: {transformStage} event(s) failed in the transform (stage); they are sent to the sink as they are, without the transform").ConfigureAwait(false);

        long delivered = 0, deadLettered = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "PluginHost.Webhook" && instrument.Name is "webhook.events.delivered" or "webhook.events.dead_lettered")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "pipeline" && tag.Value as string == ReplayName(pipeline))
                {
                    if (instrument.Name == "webhook.events.delivered") Interlocked.Add(ref delivered, value);
                    else Interlocked.Add(ref deadLettered, value);
                }
        });
        listener.Start();

        await o.WriteLineAsync($"replaying {entries.Count} event(s) of {working} through pipeline '{pipeline.Name}' ({pipeline.SinkType} sink) …").ConfigureAwait(false);
        using (var progress = TerminalProgress.ForStandardError(o))
        {
            var handed = 0;
            foreach (var chunk in entries.Select(e => e.Event).Chunk(1000))
            {
                await sink.WriteAsync(chunk, ct).ConfigureAwait(false);
                handed += chunk.Length;
                progress.Report($"deadletter replay: {handed} of {entries.Count} event(s) handed to the sink; {Interlocked.Read(ref delivered)} delivered, " +
                                $"{Interlocked.Read(ref deadLettered)} dead-lettered again");
            }
            progress.Report($"deadletter replay: waiting for the sink to deliver the last of {entries.Count} event(s) …", now: true);
            await sink.FlushAsync(ct).ConfigureAwait(false);
        }
        var again = Interlocked.Read(ref deadLettered);
        await o.WriteLineAsync(pipeline.SinkType == "webhook"
            ? $"replayed {entries.Count} event(s): {Interlocked.Read(ref delivered)} delivered, {again} dead-lettered again"
            : $"replayed {entries.Count} event(s)").ConfigureAwait(false);
        if (delete) File.Delete(working);
        else
        {
            var done = working.Contains(".replaying-", StringComparison.Ordinal) ? working.Replace(".replaying-", ".replayed-", StringComparison.Ordinal) : $"{working}.replayed-{stamp}";
            File.Move(working, done, overwrite: true);
            await o.WriteLineAsync($"kept the replayed file as {done}").ConfigureAwait(false);
        }
        return again > 0 ? 1 : 0;
    }

    private const string NativeConfigName = "pluginhost.yaml";
    private const string PikachuConfigName = "config.yaml";

    /// <summary>
    /// The configuration to replay <paramref name="file"/> with when none is given: <c>./pluginhost.yaml</c>, else
    /// <c>./config.yaml</c> (pikachu's, as <c>run</c> accepts it); else, in the dead-letter file's folder and each folder
    /// above it, a <c>pluginhost.yaml</c> or <c>config.yaml</c> with a webhook pipeline whose <c>dead_letter</c> is that
    /// file (a pikachu configuration writes <c>state/pikachu.deadletter.jsonl</c> beside itself). Null when none is found.
    /// </summary>
    public static string? FindConfig(string file)
    {
        // Only a configuration whose webhook pipeline writes this very file: an unrelated ./pluginhost.yaml must never
        // send another project's dead letters to its own receivers.
        var target = DeadLetterTarget(file);
        var folders = new List<string> { Directory.GetCurrentDirectory() };
        for (var dir = Path.GetDirectoryName(target); dir != null; dir = Path.GetDirectoryName(dir)) folders.Add(dir);
        foreach (var dir in folders)
        {
            foreach (var name in new[] { NativeConfigName, PikachuConfigName })
            {
                var candidate = Path.GetFullPath(Path.Combine(dir, name));
                if (!File.Exists(candidate)) continue;
                try
                {
                    var config = ConfigLoader.Load(candidate);
                    if (config.Pipelines.Any(p => WritesDeadLetter(config, p, target))) return candidate;
                }
                catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
                {
                    // not a configuration of ours (or unreadable): look further
                }
            }
        }
        return null;
    }

    /// <summary>The dead-letter file a (possibly moved-aside, <c>FILE.replaying-…</c>) file came from, as a full path.</summary>
    private static string DeadLetterTarget(string file)
    {
        var full = Path.GetFullPath(file);
        var i = full.LastIndexOf(".replaying-", StringComparison.Ordinal);
        return i > 0 ? full[..i] : full;
    }

    /// <summary>True when <paramref name="pipeline"/> is a webhook pipeline whose <c>dead_letter</c> is <paramref name="file"/>.</summary>
    private static bool WritesDeadLetter(HostConfig config, PipelineDefinition pipeline, string file) =>
        pipeline.SinkType == "webhook" && pipeline.SinkSettings.ValueKind == JsonValueKind.Object &&
        pipeline.SinkSettings.TryGetProperty("dead_letter", out var dl) && dl.ValueKind == JsonValueKind.String &&
        dl.GetString() is { Length: > 0 } path &&
        string.Equals(config.Resolve(path), DeadLetterTarget(file), StringComparison.Ordinal);

    /// <summary>The pipeline name the replaying sink reports under (so its counters are told from the running pipeline's).</summary>
    private static string ReplayName(PipelineDefinition p) => p.Name + ".replay";
}
