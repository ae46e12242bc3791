using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static PluginHost.Tests.Webhook.WebhookEvents;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// Signatures checked by an independent implementation: the <c>standardwebhooks</c> npm package (1.1.1), run by node
/// on the requests a real receiver got (installed once into a temp folder with npm).
/// </summary>
[Trait("Category", "Integration")]
public sealed class WebhookSignatureTests(ITestOutputHelper output)
{
    private const string Package = "standardwebhooks@1.1.1";

    [Fact]
    public async Task Every_request_verifies_with_the_standardwebhooks_npm_package()
    {
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new JsonObject
        {
            ["callback_host"] = receiver.BaseUrl,
            ["tasks"] = new JsonArray(new JsonObject { ["table"] = "*", ["url"] = "/signed" }),
            ["secret"] = secret,
        };
        var events = History("users", rows: 5, updates: 2);
        events[0].After!["name"] = "Zoë 🚀 \"quoted\" \\ ünïcode";
        await using (var sink = Sink(settings, new RecordingLogger(output)))
        {
            await sink.WriteAsync(events, default);
            await sink.FlushAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        var batched = (JsonObject)settings.DeepClone();
        batched["batch_size"] = 4;
        batched["format"] = "pikachu";
        await using (var sink = Sink(batched, new RecordingLogger(output)))
        {
            await sink.WriteAsync(events, default);
            await sink.FlushAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        var requests = receiver.Accepted.ToList();
        Assert.True(requests.Count > events.Count);
        Assert.All(requests, r => Assert.StartsWith("v1,", r.Header("webhook-signature")));

        var dir = InstallPackage();
        var file = Path.Combine(dir, $"requests-{Guid.NewGuid():N}.json");
        var list = new JsonArray();
        foreach (var r in requests)
            list.Add(new JsonObject
            {
                ["body"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(r.Body)),
                ["headers"] = new JsonObject
                {
                    ["webhook-id"] = r.Header("webhook-id"),
                    ["webhook-timestamp"] = r.Header("webhook-timestamp"),
                    ["webhook-signature"] = r.Header("webhook-signature"),
                },
            });
        await File.WriteAllTextAsync(file, list.ToJsonString());
        var script = """
            const { Webhook } = require('standardwebhooks');
            const fs = require('fs');
            const [secret, file] = process.argv.slice(1);
            const wh = new Webhook(secret);
            const requests = JSON.parse(fs.readFileSync(file, 'utf8'));
            let verified = 0, rejected = 0;
            for (const r of requests) { wh.verify(Buffer.from(r.body, 'base64'), r.headers); verified++; }
            for (const r of requests) {
              const tampered = Buffer.from(r.body, 'base64').toString().replace('"users"', '"userz"');
              try { wh.verify(tampered, r.headers); } catch (e) { rejected++; }
            }
            try { new Webhook('whsec_' + Buffer.from('another key of 32 bytes!!!!!!!!!').toString('base64')).verify(Buffer.from(requests[0].body, 'base64'), requests[0].headers); } catch (e) { rejected++; }
            console.log(JSON.stringify({ verified, rejected }));
            """;
        var (code, stdout, stderr) = Run("node", dir, "-e", script, secret, file);
        output.WriteLine(stdout + stderr);
        Assert.True(code == 0, $"node failed ({code}): {stderr}");
        var result = JsonNode.Parse(stdout.Trim())!;
        Assert.Equal(requests.Count, result["verified"]!.GetValue<int>());
        Assert.Equal(requests.Count(r => r.Body.Contains("\"users\"")) + 1, result["rejected"]!.GetValue<int>());
    }

    /// <summary>npm install standardwebhooks@1.1.1 into a temp folder (once per machine; reused while intact).</summary>
    private string InstallPackage()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pluginhost-npm-standardwebhooks-1.1.1");
        if (File.Exists(Path.Combine(dir, "node_modules", "standardwebhooks", "dist", "index.js"))) return dir;
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "package.json"), """{ "name": "pluginhost-signature-check", "version": "1.0.0", "private": true }""");
        var (code, stdout, stderr) = Run("npm", dir, "install", "--no-audit", "--no-fund", "--silent", Package);
        output.WriteLine($"npm install {Package}: {code} {stdout} {stderr}");
        if (code != 0) throw new InvalidOperationException($"npm install {Package} failed ({code}): {stderr}");
        return dir;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); throw new TimeoutException($"{file} timed out"); }
        return (p.ExitCode, o.Result, e.Result);
    }
}
