using System.CommandLine;
using PluginHost.Config;
using PluginHost.Demo;
using PluginHost.Hosting;
using PluginHost.Pipelines;

namespace PluginHost.Cli;

/// <summary>
/// The embedded default: a throwaway MariaDB with a small <c>shop</c> schema and a writer changing it every half second,
/// and one pipeline from it through a C# transform (masking e-mails with a helper plugin's <c>tObfString</c>, adding a
/// field) to stdout, with the dashboard and REST API on a free loopback port. The transform is a file in the demo's
/// folder, printed at start, to edit while it runs (hot reload). Runs until Ctrl+C (or <c>--seconds N</c>).
/// </summary>
internal static class DemoCommand
{
    /// <summary><c>demo [--seconds N]</c>.</summary>
    public static Command Create()
    {
        var seconds = CliOptions.Seconds();
        var command = new Command("demo", "The embedded demo: a throwaway MariaDB, a sample pipeline with a C# transform you can edit while " +
                                          "it runs, the dashboard and REST API") { seconds };
        command.SetAction((result, _) => RunAsync(result.GetValue(seconds)));
        return command;
    }

    /// <summary>Runs the demo until Ctrl+C, or for <paramref name="seconds"/> when above 0.</summary>
    public static async Task<int> RunAsync(int seconds)
    {
        var say = Console.Error;
        await say.WriteLineAsync("demo: starting a throwaway MariaDB …").ConfigureAwait(false);
        using var db = new ThrowawayMariaDb();
        db.Sql(DemoShop.Schema);
        var dir = Path.Combine(Path.GetTempPath(), "pluginhost-demo-" + Environment.ProcessId);
        Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        var transform = Path.Combine(dir, "transforms", "demo.csx");
        await File.WriteAllTextAsync(transform, DemoShop.Transform).ConfigureAwait(false);
        var port = ThrowawayMariaDb.FreePort();
        var configPath = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(configPath, $$"""
            # Written by `pluginhost demo`: one pipeline from the throwaway MariaDB through transforms/demo.csx to stdout.
            state_dir: state
            plugins_dir: '{{PluginDirectories.BuiltPlugins.Replace("'", "''")}}'
            server: { listen: "127.0.0.1:{{port}}" }
            pipelines:
              - name: demo
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: 1001, start: earliest }
                filter: { include: ["shop.*"], events: [insert, update, delete] }
                transform: transforms/demo.csx
                sink: { type: file, path: "-" }
            """).ConfigureAwait(false);
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        var config = ConfigLoader.Load(configPath, sinkTypes: sinks.Types);

        using var stop = new CancellationTokenSource();
        if (seconds > 0) stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        var writer = Task.Run(() => DemoShop.WriteChangesAsync(db.Port, stop.Token));
        var banner = $"""
            demo: MariaDB on 127.0.0.1:{db.Port} (database shop; a writer changes a row every half second); configuration {configPath}
            demo: dashboard http://127.0.0.1:{port}/   REST API e.g. curl -s http://127.0.0.1:{port}/pipelines/demo
            demo: each line on stdout is one event after the transform (e-mails masked by the UserFunctions plugin's tObfString, email_domain added); Ctrl+C stops
            demo: edit {transform} and save while this runs: the next events use it (a save that does not compile shows the compiler's error here, and the events go on)
            """;
        Task announced = Task.CompletedTask;
        var code = await RunCommand.RunHostAsync(config, sinks, pipelines => announced = AnnounceAsync(pipelines, banner, stop.Token), stop.Token)
            .ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await announced.ConfigureAwait(false);
        try { await writer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        return code;
    }

    /// <summary>Prints <paramref name="banner"/> once the pipeline has left its start (so it follows the start-up log lines).</summary>
    private static async Task AnnounceAsync(PipelineManager pipelines, string banner, CancellationToken ct)
    {
        try
        {
            for (var i = 0; i < 600 && pipelines.Find("demo")?.Status.State is null or PipelineState.Starting; i++)
                await Task.Delay(100, ct).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(banner).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped before it started: nothing to invite to
        }
    }
}
