using System.Net;
using Microsoft.Playwright;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace PluginHost.Tests.Api;

/// <summary>
/// The dashboard in a real browser (Debian's chromium driven by Playwright) against a host on a real Kestrel port and a
/// real MariaDB: it shows the pipelines, their counters move with changes in the database, and its pause button (which
/// asks for the admin token) pauses one. A screenshot is saved under the test output (screenshots/dashboard.png).
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class DashboardBrowserTests(MariaDbServer db, ITestOutputHelper output)
{
    public const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_pipelines_live_and_its_pause_button_pauses_one()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (Debian package chromium)");
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(10,2));");
        var broken = ApiTestHost.PipelineYaml(db, "archive", database).Replace("ssl: none }", "ssl: none, start: { file: mysql-bin.999999, pos: 4 } }");
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "orders", database, extra: "    transform: orders.csx") + broken);
        File.WriteAllText(Path.Combine(dir, "orders.csx"), "ChangeEvent Transform(ChangeEvent e) { int unused; e.Extra[\"seen\"] = true; return e; }\n");
        await using var host = await ApiTestHost.StartAsync(dir);
        await host.WaitForStateAsync("orders", "running");
        await host.WaitForStateAsync("archive", "failed");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
        var consoleErrors = new List<string>();
        // The browser reports the API's 401 (before the page asks for the token) as a console error; anything else is a bug.
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("status of 401", StringComparison.Ordinal)) consoleErrors.Add(m.Text); };
        page.PageError += (_, e) => consoleErrors.Add(e);

        var response = await page.GotoAsync(host.Http.BaseAddress!.ToString());
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await Expect(page).ToHaveTitleAsync("PluginHost");
        var orders = page.Locator("section.card[data-pipeline='orders']");
        var archive = page.Locator("section.card[data-pipeline='archive']");
        await Expect(orders.Locator(".state")).ToHaveTextAsync("running");
        await Expect(page.Locator("#conn")).ToHaveTextAsync("live");
        await Expect(page.Locator("#host-status")).ToHaveTextAsync("DOWN"); // one pipeline failed
        await Expect(archive.Locator(".state")).ToHaveTextAsync("failed");
        await Expect(archive.Locator(".error-text")).Not.ToBeEmptyAsync();
        await Expect(orders.Locator(".events-out")).ToHaveTextAsync("0");
        await Expect(orders.Locator(".transform-info")).ToContainTextAsync("orders.csx");
        await Expect(orders.Locator(".diagnostics")).ToContainTextAsync("warning CS0168");

        // Changes in MariaDB move the counters (a few seconds of them, so the sparkline has a shape).
        for (var i = 1; i <= 6; i++)
        {
            var rows = string.Join(",", Enumerable.Range(i * 100, i * 3).Select(id => $"({id}, {id}.50)"));
            db.Sql($"INSERT INTO orders VALUES {rows};", database);
            await Task.Delay(450);
        }
        var expected = Enumerable.Range(1, 6).Sum(i => i * 3);
        await Expect(orders.Locator(".events-out")).ToHaveTextAsync(expected.ToString(), new() { Timeout = 15_000 });
        await Expect(orders.Locator(".events-in")).ToHaveTextAsync(expected.ToString());
        await Expect(orders.Locator(".position")).ToContainTextAsync("mysql-bin.");
        await page.WaitForFunctionAsync("() => document.querySelector(\"section.card[data-pipeline='orders'] .spark polyline\").getAttribute('points').split(' ').length >= 3");

        // Pause: the page asks for the admin token (the API answered 401), then the state changes.
        var prompts = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            prompts.Add(dialog.Message);
            await dialog.AcceptAsync(ApiTestHost.Token);
        };
        await orders.Locator("button.pause").ClickAsync();
        await Expect(orders.Locator(".state")).ToHaveTextAsync("paused", new() { Timeout = 15_000 });
        Assert.Contains(prompts, p => p.Contains("Admin token", StringComparison.Ordinal));
        Assert.Equal("paused", (await host.PipelineAsync("orders")).GetProperty("state").GetString());
        await Expect(orders.Locator("button.resume")).ToBeEnabledAsync();
        await Expect(orders.Locator("button.pause")).ToBeDisabledAsync();

        // While paused the counters stand still; the token is remembered for the next action.
        db.Sql("INSERT INTO orders VALUES (1, 1.00);", database);
        await Task.Delay(1500);
        await Expect(orders.Locator(".events-out")).ToHaveTextAsync(expected.ToString());

        var shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        Assert.True(new FileInfo(shot).Length > 10_000);

        var promptsBefore = prompts.Count;
        await orders.Locator("button.resume").ClickAsync();
        await Expect(orders.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        await Expect(orders.Locator(".events-out")).Not.ToHaveTextAsync("0");
        Assert.Equal(promptsBefore, prompts.Count);
        Assert.Empty(consoleErrors);
    }
}
