using System.Text.RegularExpressions;
using PluginHost.Config;
using PluginHost.Demo;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// <c>pluginhost demo --seconds N</c> as a child process (its own throwaway MariaDB; not in the shared-server
/// collection, so it runs beside those tests): events through the sample transform (e-mails masked by the
/// UserFunctions plugin, a field added) on stdout, the dashboard and REST API on the printed URL, the printed transform
/// hot-reloaded when edited, a broken save reported without stopping the stream, and an exit on its own.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class DemoSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_demo_transforms_events_serves_the_dashboard_and_reloads_the_edited_transform()
    {
        MariaDbServer.FindTool("mariadbd"); // fail loudly, with the install hint, when MariaDB is missing
        var dir = TestTemp.CreateSubdirectory("pluginhost-demo-test-").FullName;
        var log = Path.Combine(dir, "demo.log");
        using var demo = HostProcess.Start(log, "demo", "--seconds", "75");
        try
        {
            await Poll.UntilAsync(() => demo.ReadLog().Contains("demo: edit ") || demo.HasExited, Patience, () => "the demo's invitation to edit the transform");
            var text = demo.ReadLog();
            var url = Url().Match(text).Groups["url"].Value;
            var transform = EditLine().Match(text).Groups["path"].Value;
            Assert.True(url.Length > 0 && File.Exists(transform), $"no dashboard URL or transform path printed:\n{text}");

            // The dashboard and the REST API on the printed URL.
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Contains("<title>PluginHost</title>", await http.GetStringAsync(""));
            Assert.Contains("\"name\":\"demo\"", await http.GetStringAsync("pipelines/demo"));

            // Events after the transform: e-mails masked by tObfString (both ends kept), the domain added as a field.
            await Poll.UntilAsync(() => Events(demo).Count(e => e.Table == "customers") >= 3, Patience, () => "three customers events");
            var customers = Events(demo).Where(e => e.Table == "customers").ToList();
            var ann = customers.First(e => (string?)e.After!["name"] == "Ann");
            Assert.Equal("a*************m", ann.After!["email"]); // ann@example.com
            Assert.Equal("example.com", ann.After!["email_domain"]);
            Assert.All(customers, e => Assert.DoesNotContain("@", (string)e.After!["email"]!));
            var all = Events(demo);
            Assert.Contains(all, e => e.Op == ChangeOperation.Insert && e.Table == "orders");
            Assert.Contains(all, e => e.Op == ChangeOperation.Update && e.Table == "orders" && (string?)e.After!["status"] == "paid");

            // Edit the printed transform: the next events use the new version.
            var source = await File.ReadAllTextAsync(transform);
            await File.WriteAllTextAsync(transform, source.Replace("    Mask(e.After);\n", "    Mask(e.After);\n    e.Extra[\"edited\"] = 1;\n"));
            await Poll.UntilAsync(() => demo.ReadLog().Contains("\"edited\":1"), Patience, () => "an event from the edited transform");

            // A broken save: its compiler error is shown, the running version goes on, events keep coming.
            await File.WriteAllTextAsync(transform, "ChangeEvent Transform(ChangeEvent e) => e.Nope;\n");
            await Poll.UntilAsync(() => demo.ReadLog().Contains("error CS1061"), Patience, () => "the broken save's compiler error");
            var edited = Events(demo, "\"edited\":1").Count;
            await Poll.UntilAsync(() => Events(demo, "\"edited\":1").Count >= edited + 3, Patience, () => "events after the broken save");

            Assert.True(demo.WaitForExit(TimeSpan.FromSeconds(120)), "the demo did not exit after --seconds 75");
            Assert.Equal(0, demo.ExitCode);
            Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(transform))), "the demo left its folder behind");
        }
        finally
        {
            output.WriteLine(demo.ReadLog());
        }
    }

    [Fact]
    public async Task Each_change_the_demo_transform_invites_compiles_where_it_stands()
    {
        // The invitations are lines to uncomment in place (a field added in Mask, where `e` is not in scope, did not
        // compile when tried from the fresh clone) and tMaskEmail for tObfString: all of them at once compile and run.
        var tries = DemoShop.Transform.Split('\n').Where(l => l.Contains("// try:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, tries.Count);
        var edited = tries.Aggregate(DemoShop.Transform, (text, line) => text.Replace(line, line.Replace("// e.", "e.").Replace("// if", "if")))
            .Replace("row[\"email\"] = tObfString(email);", "row[\"email\"] = tMaskEmail(email);");
        Assert.DoesNotContain("    // e.Extra", edited);
        var file = Path.Combine(TestTemp.CreateSubdirectory("pluginhost-demo-transform-").FullName, "demo.csx");
        await File.WriteAllTextAsync(file, edited);
        var check = await HostCommand.RunAsync(TimeSpan.FromMinutes(4), "check", file, "--plugins", PluginDirectories.BuiltPlugins);
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);
        Assert.Contains("\"seen_by\":\"demo\"", check.StandardOutput);
    }

    private static List<ChangeEvent> Events(HostProcess demo, string contains = "") =>
        demo.ReadLog().Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("{\"op\":", StringComparison.Ordinal) && l.Contains(contains))
            .Select(ChangeEventJson.Parse).ToList();

    [GeneratedRegex(@"demo: dashboard (?<url>http://127\.0\.0\.1:\d+/)")]
    private static partial Regex Url();

    [GeneratedRegex(@"demo: edit (?<path>\S+\.csx) and save")]
    private static partial Regex EditLine();
}
