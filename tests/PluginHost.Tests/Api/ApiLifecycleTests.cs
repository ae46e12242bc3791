using System.Net;
using System.Text.Json;
using PluginHost.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PluginHost.Config;
using PluginHost.Control;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Api;

/// <summary>What the API changes survives a restart; <c>POST /reload</c> applies the file pipeline by pipeline; where the API may listen.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ApiLifecycleTests(MariaDbServer db)
{
    private string NewDatabase()
    {
        var name = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {name}; USE {name}; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));");
        return name;
    }

    private string PipelineJson(string name, string database, string extra = "") => $$"""
        {"name":"{{name}}","source":{"host":"127.0.0.1","port":{{db.Port}},"user":"root","password":"${API_TEST_NO_SUCH_VAR:-}","server_id":{{ApiTestHost.NextServerId()}},"ssl":"none"},
         "filter":{"include":["{{database}}.*"]},"sink":{"type":"file","path":"out-{{name}}.jsonl","fsync":false}{{extra}}}
        """;

    [Fact]
    public async Task Pipelines_created_changed_deleted_and_paused_over_the_api_survive_a_restart()
    {
        var database = NewDatabase();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "file1", database) + ApiTestHost.PipelineYaml(db, "file2", database));
        await using (var first = await ApiTestHost.StartAsync(dir))
        {
            Assert.Equal(HttpStatusCode.Created, (await first.PostAsync("pipelines", PipelineJson("api1", database))).Status);
            Assert.Equal(HttpStatusCode.Created, (await first.PostAsync("pipelines", PipelineJson("api2", database))).Status);
            var replaced = PipelineJson("file1", database, ",\"batch_size\":11").Replace("out-file1", "out-file1");
            Assert.Equal(HttpStatusCode.OK, (await first.SendAsync(HttpMethod.Put, "pipelines/file1", replaced)).Status);
            Assert.Equal(HttpStatusCode.NoContent, (await first.SendAsync(HttpMethod.Delete, "pipelines/file2")).Status);
            await first.WaitForStateAsync("api1", "running");
            await first.WaitForStateAsync("api2", "running");
            Assert.Equal(HttpStatusCode.OK, (await first.PostAsync("pipelines/api2/pause")).Status);
            db.Sql("INSERT INTO t VALUES (1,'a'),(2,'b');", database);
            await first.WaitForOutputAsync("api1", 2);
            await first.WaitForOutputAsync("file1", 2);

            var store = Path.Combine(dir, "state", ApiPipelineStore.FileName);
            Assert.True(File.Exists(store));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store));
            var text = File.ReadAllText(store);
            Assert.Contains("${API_TEST_NO_SUCH_VAR:-}", text); // kept as sent: references are expanded at each start
        }

        db.Sql("INSERT INTO t VALUES (3,'c');", database); // while the host is down
        await using var second = await ApiTestHost.StartAsync(dir);
        var (_, list, _) = await second.GetAsync("pipelines");
        var byName = list.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["api1", "api2", "file1"], byName.Keys.Order());
        Assert.Equal("api", byName["api1"].GetProperty("origin").GetString());
        Assert.Equal("api", byName["file1"].GetProperty("origin").GetString());
        Assert.Equal(11, (await second.PipelineAsync("file1")).GetProperty("config").GetProperty("batch_size").GetInt32());
        Assert.Equal("paused", byName["api2"].GetProperty("state").GetString());
        Assert.NotEqual(JsonValueKind.Null, byName["api2"].GetProperty("position").ValueKind); // where it will resume
        await second.WaitForStateAsync("api1", "running");

        // api1 resumes from its checkpoint: the row written while down arrives, nothing is repeated.
        var out1 = await second.WaitForOutputAsync("api1", 3);
        db.Sql("INSERT INTO t VALUES (4,'d');", database);
        out1 = await second.WaitForOutputAsync("api1", 4);
        await Task.Delay(300);
        Assert.Equal(4, second.Output("api1").Length);
        Assert.Equal(4, out1.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("after").GetProperty("id").GetInt32()).Distinct().Count());

        // The paused one catches up when resumed.
        Assert.Equal(HttpStatusCode.OK, (await second.PostAsync("pipelines/api2/resume")).Status);
        await second.WaitForOutputAsync("api2", 4);

        // A reload of the unchanged file changes nothing the API decided.
        var (reloaded, result, _) = await second.PostAsync("reload");
        Assert.Equal(HttpStatusCode.OK, reloaded);
        Assert.Equal(["file1", "file2"], result.GetProperty("overridden_by_api").EnumerateArray().Select(x => x.GetString()!)); // replaced, deleted
        Assert.Equal(0, result.GetProperty("added").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await second.GetAsync("pipelines/file2")).Status);
    }

    [Fact]
    public async Task Reload_applies_the_file_pipeline_by_pipeline_and_an_invalid_file_changes_nothing()
    {
        var database = NewDatabase();
        var port = MariaDbServer.FreePort();
        var r1 = ApiTestHost.PipelineYaml(db, "r1", database);
        var r2 = ApiTestHost.PipelineYaml(db, "r2", database);
        var dir = ApiTestHost.WriteConfig(null, port, ApiTestHost.Token, r1 + ApiTestHost.PipelineYaml(db, "gone", database));
        await using var host = await ApiTestHost.StartAsync(dir);
        await host.WaitForStateAsync("r1", "running");
        var r1Service = host.Manager.Find("r1");

        // r1 unchanged, r2 added, gone removed.
        ApiTestHost.WriteConfig(dir, port, ApiTestHost.Token, r1 + r2);
        var (status, result, _) = await host.PostAsync("reload");
        Assert.True(status == HttpStatusCode.OK, result.ToString());
        Assert.Equal(["r2"], result.GetProperty("added").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal(["gone"], result.GetProperty("removed").EnumerateArray().Select(x => x.GetString()!));
        Assert.Equal(["r1"], result.GetProperty("unchanged").EnumerateArray().Select(x => x.GetString()!));
        Assert.Same(r1Service, host.Manager.Find("r1")); // not restarted
        await host.WaitForStateAsync("r2", "running");
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("pipelines/gone")).Status);

        // r1 changed: restarted with its new definition.
        var r1Changed = r1.Replace("fsync: false }", "fsync: false }\n    batch_size: 5");
        ApiTestHost.WriteConfig(dir, port, ApiTestHost.Token, r1Changed + r2);
        (status, result, _) = await host.PostAsync("reload");
        Assert.True(status == HttpStatusCode.OK, result.ToString());
        Assert.Equal(["r1"], result.GetProperty("changed").EnumerateArray().Select(x => x.GetString()!));
        Assert.NotSame(r1Service, host.Manager.Find("r1"));
        Assert.Equal(5, (await host.PipelineAsync("r1")).GetProperty("config").GetProperty("batch_size").GetInt32());

        // Invalid files: 400 naming pipeline and field; nothing changes.
        var before = host.Manager.Pipelines.Select(p => p.Status).ToList();
        var badPort = r2.Replace($"port: {db.Port}", "port: 0");
        ApiTestHost.WriteConfig(dir, port, ApiTestHost.Token, r1Changed + badPort + ApiTestHost.PipelineYaml(db, "r3", database));
        (status, result, _) = await host.PostAsync("reload");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(result.GetProperty("errors").TryGetProperty("pipelines.r2.source.port", out _), result.ToString());
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), "pipelines: [ {name: x\n");
        (status, result, _) = await host.PostAsync("reload");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        ApiTestHost.WriteConfig(dir, port, ApiTestHost.Token, r1Changed + r2.Replace("type: file", "type: nosuch"));
        (status, result, _) = await host.PostAsync("reload");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(result.GetProperty("errors").TryGetProperty("pipelines.r2.sink.type", out _), result.ToString());
        Assert.Equal(before, host.Manager.Pipelines.Select(p => p.Status).ToList());
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("pipelines/r3")).Status);

        var metrics = (await host.SendAsync(HttpMethod.Get, "metrics", token: null)).Response;
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("pluginhost_reloads_total{kind=\"config\",result=\"ok\"} 2", text);
        Assert.Contains("pluginhost_reloads_total{kind=\"config\",result=\"failed\"} 3", text);
    }

    [Fact]
    public async Task Without_a_token_the_api_listens_on_loopback_only_and_says_so()
    {
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        var dir = TestTemp.CreateSubdirectory("pluginhost-api-").FullName;
        HostConfig Config(string listen, string? token) => ConfigLoader.Parse($$"""
            state_dir: state
            server: { listen: "{{listen}}"{{(token is null ? "" : $", admin_token: {token}")}} }
            pipelines: []
            """, Path.Combine(dir, "pluginhost.yaml"));

        foreach (var listen in new[] { "0.0.0.0:18080", "[::]:18080", "10.1.2.3:18080" })
        {
            var refused = Assert.Throws<ConfigException>(() => PluginHostBuilder.Build(Config(listen, null), sinks));
            Assert.Equal("server.admin_token", Assert.Single(refused.Errors).Key);
            Assert.Contains("loopback", refused.Message);
        }
        using (PluginHostBuilder.Build(Config("0.0.0.0:18080", "t0ken"), sinks)) { } // with a token it may (not started here)

        // On loopback with the explicit opt-out: changes need no token, the start says so, and only loopback Host names are served.
        var port = MariaDbServer.FreePort();
        await using var host = await ApiTestHost.StartAsync(ApiTestHost.WriteConfig(null, port, ApiTestHost.Unauthenticated, ""), token: ApiTestHost.Unauthenticated);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning PluginHost.Api") && l.Contains("ANY local user may change pipelines"));
        var (reload, _, _) = await host.PostAsync("reload");
        Assert.Equal(HttpStatusCode.OK, reload);
        var (rebound, _, _) = await host.SendAsync(HttpMethod.Get, "health", token: null, adjust: r => r.Headers.Host = $"rebind.example:{port}");
        Assert.Equal(HttpStatusCode.Forbidden, rebound);
        var (local, _, _) = await host.SendAsync(HttpMethod.Get, "health", token: null, adjust: r => r.Headers.Host = $"localhost:{port}");
        Assert.Equal(HttpStatusCode.OK, local);
    }

    [Fact]
    public async Task The_server_can_be_turned_off()
    {
        var database = NewDatabase();
        var port = MariaDbServer.FreePort();
        var dir = ApiTestHost.WriteConfig(null, port, null, ApiTestHost.PipelineYaml(db, "quiet", database));
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), File.ReadAllText(Path.Combine(dir, "pluginhost.yaml"))
            .Replace($"server: {{ listen: \"127.0.0.1:{port}\" }}", "server: { enabled: false }"));
        var config = ConfigLoader.Load(Path.Combine(dir, "pluginhost.yaml"));
        using var host = PluginHostBuilder.Build(config, PluginHostServiceCollectionExtensions.CreateSinkCatalog());
        await host.Services.GetRequiredService<PluginManager>().LoadAllAsync();
        await host.StartAsync();
        try
        {
            Assert.IsNotType<Microsoft.AspNetCore.Builder.WebApplication>(host);
            using var client = new HttpClient();
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://127.0.0.1:{port}/health"));
            var manager = host.Services.GetRequiredService<PipelineManager>();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (manager.Find("quiet")?.Status.State != PipelineState.Running && DateTime.UtcNow < deadline) await Task.Delay(50);
            db.Sql("INSERT INTO t VALUES (1,'a');", database);
            while (!File.Exists(Path.Combine(dir, "out-quiet.jsonl")) && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(File.Exists(Path.Combine(dir, "out-quiet.jsonl")));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
