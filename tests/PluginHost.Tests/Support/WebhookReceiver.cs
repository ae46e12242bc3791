using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PluginHost.Tests.Support;

/// <summary>
/// A real HTTP receiver: Kestrel on a loopback port. Records every request it accepts (2xx), in arrival order, and
/// lets a test decide each answer (<see cref="Respond"/>: status, Retry-After, delay) to inject faults; it can be
/// stopped and started again on the same port ("receiver down": connection refused).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;
    private int _requests;

    private WebhookReceiver(int port) => Port = port;

    public int Port { get; private set; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Requests answered with a 2xx, in the order they were answered.</summary>
    public ConcurrentQueue<Received> Accepted { get; } = new();

    /// <summary>Every request that reached the receiver (including refused and failed ones).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Decides the answer to a request (default: 200 at once). Called concurrently.</summary>
    public Func<Received, Reply>? Respond { get; set; }

    /// <summary>When false, the handler does not record bodies (benchmarks).</summary>
    public bool Record { get; set; } = true;

    /// <summary>Called for every accepted request (benchmarks measure latency here).</summary>
    public Action<Received>? OnAccepted { get; set; }

    public bool IsRunning => _app != null;

    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var r = new WebhookReceiver(port);
        await r.StartAgainAsync();
        return r;
    }

    /// <summary>Starts listening (again) on the same port.</summary>
    public async Task StartAgainAsync()
    {
        if (_app != null) return;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, Port);
            o.Limits.MaxRequestBodySize = 256 * 1024 * 1024;
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await app.StartAsync();
                break;
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(100); // the port is still being released
            }
        }
        if (Port == 0)
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Port = new Uri(address).Port;
        }
        _app = app;
    }

    /// <summary>Stops listening: new connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        var app = _app;
        _app = null;
        if (app is null) return;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _requests);
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync(ctx.RequestAborted);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in ctx.Request.Headers) headers[k.ToLowerInvariant()] = v.ToString();
        var received = new Received(ctx.Request.Path.Value ?? "/", body, headers, DateTime.UtcNow, System.Diagnostics.Stopwatch.GetTimestamp());
        var reply = Respond?.Invoke(received) ?? new Reply();
        if (reply.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Delay, ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client gave up (timeout): not accepted
            }
        }
        if (reply.Status is >= 200 and < 300 && !ctx.RequestAborted.IsCancellationRequested)
        {
            if (Record) Accepted.Enqueue(received);
            OnAccepted?.Invoke(received);
        }
        ctx.Response.StatusCode = reply.Status;
        if (reply.RetryAfter != null) ctx.Response.Headers.RetryAfter = reply.RetryAfter;
        if (reply.Status >= 400) await ctx.Response.WriteAsync($"injected {reply.Status}");
    }

    /// <summary>Accepted events, de-duplicated by webhook-id (as a receiver would), in arrival order.</summary>
    public List<(Received Request, JsonObject Event)> Events()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<(Received, JsonObject)>();
        foreach (var r in Accepted)
        {
            if (r.Header("webhook-id") is { } id && !seen.Add(id)) continue;
            foreach (var e in r.Events()) list.Add((r, e));
        }
        return list;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
