using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginHost.Api;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Plugins.Webhook;

namespace PluginHost.Tests.Support;

/// <summary>
/// A whole pluginhost (pipelines, REST API, metrics, dashboard) hosted in the test process on a real Kestrel port on
/// loopback, built exactly as <c>pluginhost run</c> builds it (<see cref="PluginHostBuilder.Build"/>), with its log captured.
/// </summary>
internal sealed class ApiTestHost : IAsyncDisposable
{
    public const string Token = "test-admin-token-9f3c";
    private static int _nextServerId = 7700;

    private ApiTestHost(string dir, int port, IHost host, RecordingLoggerProvider logs, string? token)
    {
        Dir = dir;
        Port = port;
        Host = host;
        Logs = logs;
        AdminToken = token;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Dir { get; }
    public int Port { get; }
    public IHost Host { get; }
    public RecordingLoggerProvider Logs { get; }
    public string? AdminToken { get; }
    public HttpClient Http { get; }
    public string ConfigPath => Path.Combine(Dir, "pluginhost.yaml");
    public PipelineManager Manager => Host.Services.GetRequiredService<PipelineManager>();
    /// <summary>The binlog client adjustment of pipelines started from now on (registered in the host's services).</summary>
    public BinlogClientTuning ClientTuning => Host.Services.GetRequiredService<BinlogClientTuning>();

    public static uint NextServerId() => (uint)Interlocked.Increment(ref _nextServerId);

    /// <summary>A pipeline block for the configuration file (YAML list item) reading <paramref name="database"/>.* into out-NAME.jsonl.</summary>
    public static string PipelineYaml(MariaDbServer db, string name, string database, string extra = "", string user = "root", string password = "") => $$"""
          - name: {{name}}
            source: { host: 127.0.0.1, port: {{db.Port}}, user: {{user}}, password: "{{password}}", server_id: {{NextServerId()}}, ssl: none }
            filter: { include: ["{{database}}.*"] }
            sink: { type: file, path: out-{{name}}.jsonl, fsync: false }
        {{(extra.Length > 0 ? extra + "\n" : "")}}
        """;

    /// <summary>No token in the configuration: the host generates one into state_dir/admin-token.</summary>
    public const string Generated = "(generated)";

    /// <summary>Runs without a token: <c>admin_token: ""</c> with <c>allow_unauthenticated_admin: true</c>.</summary>
    public const string Unauthenticated = "";

    private static string TokenSettings(string? token) => token switch
    {
        null or Generated => "",
        Unauthenticated => ", admin_token: \"\", allow_unauthenticated_admin: true",
        _ => $", admin_token: \"{token}\"",
    };

    /// <summary>Writes <c>pluginhost.yaml</c> into <paramref name="dir"/> (a new temp directory when null).</summary>
    public static string WriteConfig(string? dir, int port, string? token, string pipelines, string extraTop = "")
    {
        dir ??= TestTemp.CreateSubdirectory("pluginhost-api-").FullName;
        File.WriteAllText(Path.Combine(dir, "pluginhost.yaml"), $$"""
            state_dir: state
            output_dir: .
            plugins_dir: no-plugins
            server: { listen: "127.0.0.1:{{port}}"{{TokenSettings(token)}} }
            {{extraTop}}
            {{(pipelines.Trim().Length == 0 ? "pipelines: []" : "pipelines:\n" + pipelines)}}
            """);
        return dir;
    }

    /// <summary>Starts a host on the configuration in <paramref name="dir"/>; with <paramref name="testWebhook"/> the webhook
    /// sink is the test's own copy of the plugin (origin <c>plugin Webhook (test)</c>), otherwise only what plugins_dir holds.</summary>
    public static async Task<ApiTestHost> StartAsync(string dir, string? token = Token, bool testWebhook = true)
    {
        var config = ConfigLoader.Load(Path.Combine(dir, "pluginhost.yaml"));
        var port = ApiServer.ListenAddress.Parse(config.Options.Server.Listen).Port;
        var sinks = PluginHostServiceCollectionExtensions.CreateSinkCatalog();
        if (testWebhook) sinks.Register(new WebhookSinkFactory(), "plugin Webhook (test)");
        var logs = new RecordingLoggerProvider();
        var tuning = new BinlogClientTuning(o => o with { HeartbeatInterval = TimeSpan.FromSeconds(1) });
        var host = PluginHostBuilder.Build(config, sinks, b =>
        {
            b.Logging.AddProvider(logs);
            b.Services.AddSingleton(tuning);
        });
        await host.Services.GetRequiredService<PluginManager>().LoadAllAsync();
        await host.StartAsync();
        if (token is null or Generated) token = File.ReadAllText(Path.Combine(config.StateDirectory, PluginHost.Api.AdminToken.FileName)).Trim();
        return new ApiTestHost(dir, port, host, logs, token is Unauthenticated ? null : token);
    }

    /// <summary>A new directory and host with <paramref name="pipelines"/> (YAML list items) in its configuration.</summary>
    public static async Task<ApiTestHost> StartNewAsync(string pipelines, string? token = Token, string extraTop = "")
    {
        var dir = WriteConfig(null, MariaDbServer.FreePort(), token, pipelines, extraTop);
        return await StartAsync(dir, token);
    }

    public async Task StopAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Host.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception) { /* already stopped */ }
        Host.Dispose();
        Http.Dispose();
    }

    // ---------------------------------------------------------------- HTTP helpers

    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path,
        string? body = null, string contentType = "application/json", string? token = "default", Action<HttpRequestMessage>? adjust = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body != null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        token = token == "default" ? AdminToken : token;
        if (token != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        adjust?.Invoke(request);
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement json = default;
        if (text.Length > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json") ?? false))
            json = JsonDocument.Parse(text).RootElement.Clone();
        Bodies.Add(text);
        return (response.StatusCode, json, response);
    }

    /// <summary>The first server-sent event of <c>GET /stream</c> (its <c>data:</c> JSON); the stream is then closed.</summary>
    public async Task<string> StreamEventAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // hang guard
        using var response = await Http.GetAsync("stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("data:", StringComparison.Ordinal))
                return line["data:".Length..].Trim();
        throw new Xunit.Sdk.XunitException("GET /stream ended without an event");
    }

    /// <summary>Every response body seen (to check that no secret ever appears).</summary>
    public ConcurrentBag<string> Bodies { get; } = [];

    public Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(string path) => SendAsync(HttpMethod.Get, path, token: null);

    public Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(string path, string? body = null, string contentType = "application/json") =>
        SendAsync(HttpMethod.Post, path, body, contentType);

    public async Task<JsonElement> PipelineAsync(string name)
    {
        var (status, body, _) = await GetAsync("pipelines/" + name);
        Assert.True(status == HttpStatusCode.OK, $"GET /pipelines/{name}: {status} {body}");
        return body;
    }

    /// <summary>Polls <c>GET /pipelines/NAME</c> until <paramref name="condition"/> holds.</summary>
    public async Task<JsonElement> WaitForAsync(string name, Func<JsonElement, bool> condition, string what, int seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        JsonElement last = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var (status, body, _) = await GetAsync("pipelines/" + name);
            if (status == HttpStatusCode.OK)
            {
                last = body;
                if (condition(body)) return body;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"pipeline {name}: {what} did not happen within {seconds} s; last: {last}\nlog:\n{Logs.Text}");
    }

    public Task<JsonElement> WaitForStateAsync(string name, string state, int seconds = 20) =>
        WaitForAsync(name, p => p.GetProperty("state").GetString() == state, $"state {state}", seconds);

    public Task<JsonElement> WaitForOutAsync(string name, long atLeast, int seconds = 20) =>
        WaitForAsync(name, p => p.GetProperty("events").GetProperty("out").GetInt64() >= atLeast, $"events.out ≥ {atLeast}", seconds);

    /// <summary>Waits for a log line (the state log notes changes within a quarter second).</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> match, string what, int seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (Logs.Lines.FirstOrDefault(match) is { } line) return line;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"no log line {what} within {seconds} s; log:\n{Logs.Text}");
    }

    /// <summary>Waits until the pipeline's checkpoint covers <paramref name="events"/> delivered events.</summary>
    public Task<JsonElement> WaitForCheckpointAsync(string name, long events, int seconds = 20) =>
        WaitForAsync(name, p => p.GetProperty("position") is { ValueKind: JsonValueKind.Object } cp && cp.GetProperty("events_delivered").GetInt64() >= events,
            $"a checkpoint after {events} events", seconds);

    /// <summary>Lines the file sink of <paramref name="pipeline"/> wrote.</summary>
    public string[] Output(string pipeline)
    {
        var path = Path.Combine(Dir, $"out-{pipeline}.jsonl");
        if (!File.Exists(path)) return [];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(f).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async Task<string[]> WaitForOutputAsync(string pipeline, int lines, int seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var output = Output(pipeline);
            if (output.Length >= lines) return output;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"{pipeline}: {Output(pipeline).Length} lines written, expected {lines}\nlog:\n{Logs.Text}");
    }
}
