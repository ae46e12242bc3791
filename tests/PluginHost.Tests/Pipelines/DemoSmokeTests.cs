using System.Diagnostics;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// <c>pluginhost demo --seconds 6</c> as a child process (its own throwaway MariaDB; not in the shared-server
/// collection, so it runs beside those tests): event JSON lines appear on stdout and it exits on its own.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DemoSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_demo_prints_event_JSON_lines_and_exits()
    {
        MariaDbServer.FindTool("mariadbd"); // fail loudly, with the install hint, when MariaDB is missing
        var dir = TestTemp.CreateSubdirectory("pluginhost-demo-test-").FullName;
        try
        {
            var log = Path.Combine(dir, "demo.log");
            using var demo = HostProcess.Start(log, "demo", "--seconds", "6");
            var sw = Stopwatch.StartNew();
            while (!demo.HasExited && sw.Elapsed < TimeSpan.FromSeconds(90)) await Task.Delay(100);
            var text = demo.ReadLog();
            output.WriteLine(text);
            Assert.True(demo.HasExited, "the demo did not exit within 90 s of being told to run for 6 s");

            var events = text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"op\":", StringComparison.Ordinal))
                .Select(ChangeEventJson.Parse).ToList();
            Assert.True(events.Count >= 5, $"only {events.Count} event lines; the demo's output ends with:\n{text[Math.Max(0, text.Length - 3000)..]}");
            Assert.All(events, e => Assert.Equal("shop", e.Database));
            Assert.Contains(events, e => e.Op == ChangeOperation.Insert && e.Table == "customers" && (string?)e.After!["name"] == "Ann");
            Assert.Contains(events, e => e.Op == ChangeOperation.Insert && e.Table == "orders");
            Assert.Contains(events, e => e.Op == ChangeOperation.Update && e.Table == "orders" && (string?)e.After!["status"] == "paid");
            Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.File)));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
