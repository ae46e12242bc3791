using System.Net;
using System.Text.Json;
using PluginHost.Tests.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Api;

/// <summary><c>GET /plugins</c> of a running host shows broken plugins with their state and error, and a rejected reload.</summary>
[Trait("Category", "Integration")]
public sealed class ApiPluginFailureTests
{
    [Fact]
    public async Task Get_plugins_lists_failed_plugins_with_their_error_and_a_rejected_reload_beside_the_running_version()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token, "");
        var pluginsDir = Path.Combine(dir, "no-plugins"); // the plugins_dir ApiTestHost writes
        BrokenPlugins.Create(built, pluginsDir);
        ThirdPartyPlugins.CopyTo(built.SinkV1, Path.Combine(pluginsDir, "testsink"));
        await using var host = await ApiTestHost.StartAsync(dir);

        var (status, body, _) = await host.GetAsync("plugins");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(pluginsDir, body.GetProperty("directory").GetString());
        var plugins = body.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["garbage", "nodependency", "testsink", "thrower"], plugins.Keys.Order());
        foreach (var (name, reason) in BrokenPlugins.Reasons)
        {
            var p = plugins[name];
            Assert.Equal("failed", p.GetProperty("state").GetString());
            Assert.Contains(reason, p.GetProperty("error").GetString());
            Assert.Equal(JsonValueKind.Null, p.GetProperty("version").ValueKind);
            Assert.Equal(JsonValueKind.String, p.GetProperty("error_at").ValueKind);
            Assert.Equal(0, p.GetProperty("loads").GetInt32());
            Assert.Equal(Path.Combine(pluginsDir, name), p.GetProperty("directory").GetString());
            // The same error is in the log.
            Assert.Contains(host.Logs.Lines, l => l.StartsWith($"Error PluginHost.Plugins: plugin {name} failed to load from", StringComparison.Ordinal)
                                                  && l.EndsWith(p.GetProperty("error").GetString()!, StringComparison.Ordinal));
        }
        Assert.Equal("loaded", plugins["testsink"].GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, plugins["testsink"].GetProperty("error").ValueKind);
        Assert.Contains(body.GetProperty("sink_types").EnumerateArray(),
            t => t.GetProperty("type").GetString() == "testsink" && t.GetProperty("origin").GetString() == "plugin testsink 1.0.0");

        // A broken new version of the running plugin (watched, hot reload): rejected, shown beside the running version.
        ThirdPartyPlugins.CopyTo(built.SinkBroken, Path.Combine(pluginsDir, "testsink"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement testsink;
        while (true)
        {
            (_, body, _) = await host.GetAsync("plugins");
            testsink = body.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "testsink");
            if (testsink.GetProperty("error").ValueKind == JsonValueKind.String) break;
            Assert.True(DateTime.UtcNow < deadline, $"the broken version was not rejected within 30 s; log:\n{host.Logs.Text}");
            await Task.Delay(100);
        }
        Assert.Equal("loaded", testsink.GetProperty("state").GetString());
        Assert.Equal("1.0.0", testsink.GetProperty("version").GetString());
        Assert.Equal(1, testsink.GetProperty("loads").GetInt32());
        Assert.Contains("threw in its constructor: InvalidOperationException: broken on purpose", testsink.GetProperty("error").GetString());
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Error PluginHost.Plugins: plugin testsink: the files in", StringComparison.Ordinal)
                                              && l.Contains("were rejected, version 1.0.0 keeps running", StringComparison.Ordinal));
    }
}
