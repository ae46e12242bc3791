using System.CommandLine;
using PluginHost.Binlog.Protocol;
using PluginHost.Config;
using PluginHost.Demo;
using PluginHost.Hosting;

namespace PluginHost.Cli;

/// <summary>
/// The embedded default: a throwaway MariaDB, a small sample schema, one pipeline printing the event JSON of every
/// change to stdout, and a writer making changes every half second. Runs until Ctrl+C (or <c>--seconds N</c>).
/// </summary>
internal static class DemoCommand
{
    /// <summary><c>demo [--seconds N]</c>.</summary>
    public static Command Create()
    {
        var seconds = CliOptions.Seconds();
        var command = new Command("demo", "The embedded demo: a throwaway MariaDB, a sample schema and changes flowing through a sample pipeline") { seconds };
        command.SetAction((result, _) => RunAsync(result.GetValue(seconds)));
        return command;
    }

    /// <summary>Runs the demo until Ctrl+C, or for <paramref name="seconds"/> when above 0.</summary>
    public static async Task<int> RunAsync(int seconds)
    {
        Console.Error.WriteLine("demo: starting a throwaway MariaDB …");
        using var db = new ThrowawayMariaDb();
        db.Sql(SampleSchema);
        var dir = Path.Combine(Path.GetTempPath(), "pluginhost-demo-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var configPath = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(configPath, $$"""
            # Written by `pluginhost demo`: one pipeline from the throwaway MariaDB to stdout.
            state_dir: state
            plugins_dir: '{{PluginDirectories.BuiltPlugins.Replace("'", "''")}}'
            server: { enabled: false }
            pipelines:
              - name: demo
                source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: 1001, start: earliest }
                filter: { include: ["shop.*"], events: [insert, update, delete] }
                sink: { type: file, path: "-" }
            """).ConfigureAwait(false);
        Console.Error.WriteLine($"demo: MariaDB on 127.0.0.1:{db.Port}; config {configPath}; each change below is one event (Ctrl+C to stop)");
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        var config = ConfigLoader.Load(configPath, sinkTypes: sinks.Types);

        using var stop = new CancellationTokenSource();
        if (seconds > 0) stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        var writer = Task.Run(() => WriteChangesAsync(db.Port, stop.Token));
        var code = await RunCommand.RunHostAsync(config, sinks, null, stop.Token).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try { await writer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        return code;
    }

    private const string SampleSchema = """
        CREATE DATABASE shop;
        CREATE TABLE shop.customers (
          id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          name VARCHAR(100) NOT NULL, email VARCHAR(200), created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3));
        CREATE TABLE shop.orders (
          id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id INT UNSIGNED NOT NULL,
          amount DECIMAL(10,2) NOT NULL, status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new', note JSON);
        INSERT INTO shop.customers (name, email) VALUES ('Ann', 'ann@example.com'), ('Bob', 'bob@example.com');
        """;

    private static async Task WriteChangesAsync(int port, CancellationToken ct)
    {
        await using var c = await MySqlProtocolConnection.OpenAsync(
            new ConnectionOptions { Host = "127.0.0.1", Port = port, User = "root", SslMode = SslMode.None }, ct).ConfigureAwait(false);
        var rnd = new Random(42);
        for (var i = 1; !ct.IsCancellationRequested; i++)
        {
            await Task.Delay(500, ct).ConfigureAwait(false);
            switch (i % 4)
            {
                case 1:
                    await c.ExecuteAsync($"INSERT INTO shop.orders (customer_id, amount, note) VALUES ({1 + i % 2}, {rnd.Next(100, 99999) / 100.0:F2}, '{{\"gift\": {(i % 3 == 0 ? "true" : "false")}}}')", ct).ConfigureAwait(false);
                    break;
                case 2:
                    await c.ExecuteAsync("UPDATE shop.orders SET status = 'paid' WHERE status = 'new' ORDER BY id LIMIT 1", ct).ConfigureAwait(false);
                    break;
                case 3:
                    await c.ExecuteAsync($"INSERT INTO shop.customers (name, email) VALUES ('Customer {i}', 'c{i}@example.com')", ct).ConfigureAwait(false);
                    break;
                default:
                    await c.ExecuteAsync("DELETE FROM shop.orders WHERE status = 'paid' ORDER BY id LIMIT 1", ct).ConfigureAwait(false);
                    break;
            }
        }
    }
}
