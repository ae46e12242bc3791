using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using PluginHost.Tests.Api;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// A plugin author's whole loop with the <c>dotnet new</c> templates (docs/plugins.md, "Writing a plugin"): install
/// them from <c>.local/packages</c>, <c>dotnet new</c>, <c>dotnet build</c>, the template's own tests pass,
/// <c>dotnet publish -o plugins_dir/NAME</c> into a running host, which hot-loads it; then rows from MariaDB go
/// through the new sink (or through a transform calling the new helper). Slow (restores, builds, tests and publishes a
/// solution: about 2 minutes each on a busy 2-core machine, most of it dotnet build): one test per template.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TemplateTests(MariaDbServer db, ITestOutputHelper output)
{
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task The_sink_template_builds_passes_its_tests_and_hot_loads_into_a_running_host_where_rows_go_through_it()
    {
        var clock = Stopwatch.StartNew();
        var database = "tplsink_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; CREATE TABLE {database}.t (id INT PRIMARY KEY, email VARCHAR(64));");
        using var run = RunningHost.Start(db, output);

        var templates = await PluginTemplates.GetAsync();
        var solution = await templates.NewAsync("pluginhost-sink", "TplSink");
        Assert.True(File.Exists(Path.Combine(solution, "TplSink", "TplSinkFactory.cs")), "the project is named after -n");
        Assert.Contains("\"tplsink\"", File.ReadAllText(Path.Combine(solution, "TplSink", "TplSinkFactory.cs")));
        await BuildTestAndPublishAsync(templates, solution, "TplSink", run.PluginsDirectory);
        output.WriteLine($"new + build + test + publish: {clock.Elapsed.TotalSeconds:F0} s");

        var plugin = await run.UntilPluginLoadedAsync("TplSink");
        Assert.Equal(["tplsink"], plugin.GetProperty("sink_types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("TplSink.dll", plugin.GetProperty("assembly_file").GetString());

        await run.CreatePipelineAsync("tpl", $$"""
            name: tpl
            source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
            filter: { include: ["{{database}}.*"] }
            sink: { type: tplsink, path: tpl-events.jsonl }
            """);
        db.Sql("INSERT INTO t VALUES (1, 'ann@example.com'), (2, 'bob@example.com');", database);
        var lines = await run.UntilLinesAsync("tpl-events.jsonl", 2);
        Assert.Contains("ann@example.com", lines[0]);
        Assert.Contains("bob@example.com", lines[1]);
        Assert.Equal(database, JsonDocument.Parse(lines[0]).RootElement.GetProperty("database").GetString());
        output.WriteLine($"whole loop: {clock.Elapsed.TotalSeconds:F0} s");
    }

    [Fact]
    public async Task The_helpers_template_builds_passes_its_tests_and_hot_loads_into_a_running_host_where_a_transform_calls_it()
    {
        var clock = Stopwatch.StartNew();
        var database = "tplhelp_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; CREATE TABLE {database}.t (id INT PRIMARY KEY, title VARCHAR(64));");
        using var run = RunningHost.Start(db, output);

        var templates = await PluginTemplates.GetAsync();
        var solution = await templates.NewAsync("pluginhost-helpers", "TplHelpers");
        await BuildTestAndPublishAsync(templates, solution, "TplHelpers", run.PluginsDirectory);
        output.WriteLine($"new + build + test + publish: {clock.Elapsed.TotalSeconds:F0} s");

        var plugin = await run.UntilPluginLoadedAsync("TplHelpers");
        Assert.Equal(["TplHelpers.TplHelpers"], plugin.GetProperty("helper_types").EnumerateArray().Select(t => t.GetString()));

        // Transforms of pipelines set over the API come from transforms_dir (default: transforms/ beside the config).
        System.IO.Directory.CreateDirectory(Path.Combine(run.Directory, "transforms"));
        File.WriteAllText(Path.Combine(run.Directory, "transforms", "slug.csx"), """
            ChangeEvent Transform(ChangeEvent e)
            {
                if (e.After is { } row) row["slug"] = tSlug((string?)row["title"]);
                return e;
            }
            """);
        await run.CreatePipelineAsync("slugs", $$"""
            name: slugs
            source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none }
            filter: { include: ["{{database}}.*"] }
            transform: transforms/slug.csx
            sink: { type: file, path: slugs.jsonl, fsync: false }
            """);
        db.Sql("INSERT INTO t VALUES (1, 'Hello, World!');", database);
        var line = Assert.Single(await run.UntilLinesAsync("slugs.jsonl", 1));
        Assert.Equal("hello-world", JsonDocument.Parse(line).RootElement.GetProperty("after").GetProperty("slug").GetString());
        output.WriteLine($"whole loop: {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>dotnet build, dotnet test (the template's own tests), dotnet publish of the plugin project into plugins_dir/NAME.</summary>
    private async Task BuildTestAndPublishAsync(PluginTemplates templates, string solution, string name, string pluginsDirectory)
    {
        string[] quiet = ["--nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"];
        await templates.DotnetAsync(solution, BuildLimit, ["build", $"{name}.slnx", .. quiet]);
        var tests = await templates.DotnetAsync(solution, BuildLimit, ["test", $"{name}.slnx", "--no-build", .. quiet]);
        output.WriteLine(tests);
        Assert.Matches(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+[1-9]", tests);
        var target = Path.Combine(pluginsDirectory, name);
        await templates.DotnetAsync(solution, BuildLimit, ["publish", Path.Combine(name, $"{name}.csproj"), "-o", target, .. quiet]);
        Assert.True(File.Exists(Path.Combine(target, name + ".dll")));
        Assert.True(File.Exists(Path.Combine(target, name + ".deps.json")));
        Assert.Empty(Directory.GetFiles(target, "PluginHost.Sdk.*", SearchOption.AllDirectories)); // the host provides it
    }

    /// <summary>A real host process over an empty <c>plugins_dir</c>, no pipelines, its REST API on a free port.</summary>
    private sealed class RunningHost : IDisposable
    {
        private readonly HostProcess _host;
        private readonly HttpClient _http;
        private readonly ITestOutputHelper _output;

        private RunningHost(string directory, HostProcess host, HttpClient http, ITestOutputHelper output)
        {
            Directory = directory;
            _host = host;
            _http = http;
            _output = output;
        }

        public string Directory { get; }
        public string PluginsDirectory => Path.Combine(Directory, "plugins");

        public static RunningHost Start(MariaDbServer db, ITestOutputHelper output)
        {
            var dir = TestTemp.CreateSubdirectory("pluginhost-template-host-").FullName;
            System.IO.Directory.CreateDirectory(Path.Combine(dir, "plugins"));
            var port = MariaDbServer.FreePort();
            File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), $$"""
                state_dir: state
                plugins_dir: plugins
                server: { listen: "127.0.0.1:{{port}}", admin_token: "{{ApiTestHost.Token}}" }
                pipelines: []
                """);
            var host = HostProcess.Start(Path.Combine(dir, "host.log"), "run", "--config", Path.Combine(dir, "pluginhost.yaml"));
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            http.DefaultRequestHeaders.Authorization = new("Bearer", ApiTestHost.Token);
            return new RunningHost(dir, host, http, output);
        }

        /// <summary>Waits for the watcher to load plugin NAME; returns its <c>GET /plugins</c> entry.</summary>
        public async Task<JsonElement> UntilPluginLoadedAsync(string name)
        {
            JsonElement? found = null;
            await UntilAsync(async () =>
            {
                try
                {
                    var plugins = JsonDocument.Parse(await _http.GetStringAsync("plugins")).RootElement.GetProperty("plugins");
                    found = plugins.EnumerateArray().FirstOrDefault(p => p.GetProperty("name").GetString() == name);
                    return found is { ValueKind: JsonValueKind.Object } p && p.GetProperty("state").GetString() == "loaded";
                }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(30), $"plugin {name} loaded");
            return found!.Value;
        }

        /// <summary>POST /pipelines (YAML), then waits for it to run.</summary>
        public async Task CreatePipelineAsync(string name, string yaml)
        {
            using var response = await _http.PostAsync("pipelines", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"POST /pipelines: {(int)response.StatusCode} {body}");
            await UntilAsync(async () => JsonDocument.Parse(await _http.GetStringAsync("pipelines/" + name)).RootElement
                .GetProperty("state").GetString() == "running", TimeSpan.FromSeconds(60), $"pipeline {name} running");
        }

        /// <summary>Waits until the file has at least <paramref name="count"/> lines (a relative sink path of a pipeline set
        /// over the API is in output_dir, by default state_dir/output).</summary>
        public async Task<string[]> UntilLinesAsync(string file, int count)
        {
            var path = Path.Combine(Directory, "state", "output", file);
            string[] lines = [];
            await UntilAsync(() =>
            {
                lines = File.Exists(path) ? File.ReadAllLines(path) : [];
                return Task.FromResult(lines.Length >= count);
            }, TimeSpan.FromSeconds(30), $"{count} line(s) in {file}");
            return lines;
        }

        private async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!await condition())
            {
                Assert.False(_host.HasExited, _host.ReadLog());
                if (clock.Elapsed > limit) throw new Xunit.Sdk.XunitException($"{what} did not happen within {limit.TotalSeconds} s; log:\n{_host.ReadLog()}");
                await Task.Delay(100);
            }
        }

        public void Dispose()
        {
            _host.Terminate(TimeSpan.FromSeconds(20));
            _output.WriteLine(_host.ReadLog());
            _http.Dispose();
            _host.Dispose();
        }
    }
}
