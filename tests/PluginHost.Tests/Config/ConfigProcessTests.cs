using System.Net;
using System.Net.Sockets;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Config;

/// <summary>
/// Operator mistakes with the real executable: every problem of a file (sink settings included) in one pass, and a
/// <c>server.listen</c> port already taken: plain lines naming the key, no stack trace, a non-zero exit.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConfigProcessTests
{
    private static (int Exit, string Log) Run(string yaml)
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-config-proc-").FullName;
        var config = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(config, yaml);
        using var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", config);
        Assert.True(host.WaitForExit(TimeSpan.FromSeconds(60)), $"the host did not exit:\n{host.ReadLog()}");
        return (host.ExitCode, host.ReadLog());
    }

    [Fact]
    public void Sink_errors_are_reported_with_every_other_error_in_one_pass()
    {
        var (exit, log) = Run("""
            state_dir: state
            server: { enabled: false }
            log: { level: loud }
            pipelines:
              - name: files
                source: { host: 127.0.0.1, user: u, server_id: 1, port: 0 }
                sink: { type: file, pathh: out.jsonl }
              - name: hooks
                source: { host: 127.0.0.1, user: u, server_id: 2 }
                sink: { type: webhook, callback_host: "http://127.0.0.1:9", worker_count: "many" }
              - name: nowhere
                source: { host: 127.0.0.1, user: u, server_id: 3 }
                sink: { type: nosuchsink }
            """);
        Assert.Equal(2, exit);
        Assert.Contains("log.level: must be trace, debug, info, warn or error", log);
        Assert.Contains("pipeline 'files': source.port: must be 1-65535", log);
        Assert.Contains("pipeline 'files': sink.pathh", log);
        Assert.Contains("pipeline 'hooks': sink.worker_count", log);
        Assert.Contains("pipeline 'nowhere': sink.type: unknown sink type 'nosuchsink'", log);
        Assert.Contains("invalid configuration (5 problems)", log);
        Assert.DoesNotContain("   at ", log);
    }

    [Fact]
    public void A_pikachu_file_reports_its_sink_errors_with_the_others_under_its_own_keys()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-config-proc-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.yaml"), """
            database: { host: 127.0.0.1, port: 0, user: root, password: "", database: shop, server_id: 100 }
            log: { level: info }
            server: { enabled: false }
            dispatcher: { worker_count: many, timeout: 30s }
            callback_host: "http://127.0.0.1:9"
            """);
        File.WriteAllText(Path.Combine(dir, "tasks.yaml"), """
            tasks:
            - task_id: users
              table: users
              events: [insert]
              url: /hooks/users
            """);
        using var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", Path.Combine(dir, "config.yaml"));
        Assert.True(host.WaitForExit(TimeSpan.FromSeconds(60)), $"the host did not exit:\n{host.ReadLog()}");
        var log = host.ReadLog();
        Assert.Equal(2, host.ExitCode);
        Assert.Contains("database.port: must be 1-65535", log);
        Assert.Contains("dispatcher.worker_count: 'many' is not a valid whole number", log); // a sink setting, checked by the webhook plugin: in the same pass
        Assert.DoesNotContain("   at ", log);
    }

    [Fact]
    public void A_server_listen_port_in_use_is_one_plain_line_and_a_non_zero_exit()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, log) = Run($$"""
            state_dir: state
            plugins_dir: no-plugins
            server: { listen: "127.0.0.1:{{port}}", admin_token: "t0k3n-for-the-test" }
            pipelines: []
            """);
        Assert.NotEqual(0, exit);
        Assert.Contains($"server.listen: cannot listen on 127.0.0.1:{port}: the address is already in use", log);
        Assert.True(!log.Contains("   at "), log);
        Assert.DoesNotContain("Unhandled exception", log);
    }
}
