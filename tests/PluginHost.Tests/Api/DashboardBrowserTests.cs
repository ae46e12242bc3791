using System.Net;
using Microsoft.Playwright;
using PluginHost.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace PluginHost.Tests.Api;

/// <summary>
/// The dashboard in a real browser (Debian's chromium driven by Playwright) against a host on a real Kestrel port and a
/// real MariaDB: it shows the pipelines, their counters move with changes in the database, its pause button (which
/// asks for the admin token) pauses one, its seek button moves one to the latest position, and a lagging pipeline shows
/// its lag. A screenshot is saved under the test output (screenshots/dashboard.png).
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DashboardBrowserTests(MariaDbServer db, ITestOutputHelper output)
{
    public const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_pipelines_live_and_its_pause_button_pauses_one()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (Debian package chromium)");
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(10,2)); CREATE TABLE old (id INT PRIMARY KEY);");
        // A row that a pipeline created near the end reads from here: seconds old by then, so that pipeline lags.
        var head = db.Sql("SHOW MASTER STATUS;").Split('\t');
        db.Sql("INSERT INTO old VALUES (1);", database);
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
        string? seekAnswer = null;
        page.Dialog += async (_, dialog) =>
        {
            prompts.Add(dialog.Message);
            await dialog.AcceptAsync(dialog.Message.StartsWith("Seek ", StringComparison.Ordinal) ? seekAnswer : ApiTestHost.Token);
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
        await host.WaitForOutputAsync("orders", expected + 1); // the row written while paused
        await Expect(orders.Locator(".lag")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d)? (s|min|h)$"));

        // Seek to latest while paused: rows written meanwhile are skipped. With the token forgotten, the page asks for the
        // target and then for the token; the position shown moves.
        await orders.Locator("button.pause").ClickAsync();
        await Expect(orders.Locator(".state")).ToHaveTextAsync("paused", new() { Timeout = 15_000 });
        var before = await orders.Locator(".position").TextContentAsync();
        db.Sql("INSERT INTO orders VALUES (2, 2.00), (3, 3.00);", database);
        await page.EvaluateAsync("() => sessionStorage.clear()");
        prompts.Clear();
        seekAnswer = "latest";
        await orders.Locator("button.seek").ClickAsync();
        await Expect(orders.Locator(".position")).Not.ToHaveTextAsync(before!, new() { Timeout = 15_000 });
        Assert.Equal(2, prompts.Count);
        Assert.StartsWith("Seek orders to:", prompts[0]);
        Assert.Contains("Admin token", prompts[1]);
        var seeked = await host.PipelineAsync("orders");
        Assert.Equal("paused", seeked.GetProperty("state").GetString());
        var shown = await orders.Locator(".position").TextContentAsync();
        var position = seeked.GetProperty("position");
        Assert.StartsWith($"{position.GetProperty("file").GetString()}:{position.GetProperty("pos").GetInt64()}", shown);
        await orders.Locator("button.resume").ClickAsync();
        await Expect(orders.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        db.Sql("INSERT INTO orders VALUES (4, 4.00);", database); // delivered; the two written while paused are not
        var lines = await host.WaitForOutputAsync("orders", expected + 2);
        Assert.Contains("\"id\":4", lines[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("\"id\":2,", StringComparison.Ordinal) || l.Contains("\"id\":3,", StringComparison.Ordinal));

        // Lag: a pipeline created now, reading from before the row in `old` (seconds old), shows it (no idle heartbeat
        // for a minute, which is what sets the lag of a caught-up pipeline back to 0).
        host.ClientTuning.Adjust = o => o with { HeartbeatInterval = TimeSpan.FromSeconds(60) };
        var replay = $$"""
            name: replay
            source: { host: 127.0.0.1, port: {{db.Port}}, user: root, password: "", server_id: {{ApiTestHost.NextServerId()}}, ssl: none, start: { file: {{head[0]}}, pos: {{head[1]}} } }
            filter: { include: ["{{database}}.old"] }
            sink: { type: file, path: out-replay.jsonl, fsync: false }
            """;
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("pipelines", replay, "application/yaml")).Status);
        var lagging = page.Locator("section.card[data-pipeline='replay']");
        await Expect(lagging.Locator(".events-out")).ToHaveTextAsync("1", new() { Timeout = 15_000 });
        await Expect(lagging.Locator(".lag")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^([1-9]\d* s|\d+\.\d (min|h))$"));
        Assert.True((await host.PipelineAsync("replay")).GetProperty("lag_seconds").GetDouble() >= 1);
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task A_snapshot_shows_a_progress_bar_per_table_and_its_cancel_button_ends_it()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (Debian package chromium)");
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        // 100,000 rows in chunks of 5: minutes of chunks, so the snapshot is surely still running when Cancel is clicked.
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL); " +
               "INSERT INTO big SELECT seq, CONCAT('v', seq) FROM seq_1_to_100000; ANALYZE TABLE big;");
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "shop", database, extra: "    snapshot: { chunk_size: 5 }"));
        await host.WaitForStateAsync("shop", "running");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("status of 401", StringComparison.Ordinal)) consoleErrors.Add(m.Text); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        var prompts = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            prompts.Add(dialog.Message);
            await dialog.AcceptAsync(dialog.Message.StartsWith("Snapshot of ", StringComparison.Ordinal) ? $"{database}.big"
                : dialog.Message.StartsWith("Only rows where", StringComparison.Ordinal) ? "" : ApiTestHost.Token);
        };
        await page.GotoAsync(host.Http.BaseAddress!.ToString());
        var card = page.Locator("section.card[data-pipeline='shop']");
        await Expect(card.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        await Expect(card.Locator(".snapshot")).ToBeHiddenAsync();

        // Snapshot…: the page asks for the tables, a condition (none) and the token; the card shows the table's progress bar.
        await card.Locator("button.snap").ClickAsync();
        await Expect(card.Locator(".state")).ToHaveTextAsync("snapshotting", new() { Timeout = 15_000 });
        Assert.Equal(3, prompts.Count);
        Assert.Contains("Admin token", prompts[2]);
        var row = card.Locator(".snap-row");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator(".mono")).ToHaveTextAsync($"{database}.big");
        await Expect(row.Locator("progress")).ToHaveAttributeAsync("max", "100");
        await Expect(row).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"[1-9][\d,]* / ~[\d,]+ · [\d,]+/s · ETA "), new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync("() => document.querySelector(\"section.card[data-pipeline='shop'] .snap-row progress\").value > 0", null, new() { Timeout = 30_000 });
        await Expect(card.Locator(".snapshot-meta")).ToHaveTextAsync("· on_demand");
        var cancel = card.Locator("button.snap-cancel");
        await Expect(cancel).ToBeVisibleAsync();
        await Expect(card.Locator("button.snap")).ToBeEnabledAsync();

        var shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "dashboard-snapshot.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");

        // Cancel (the token is remembered): the snapshot ends, the pipeline streams on.
        await cancel.ClickAsync();
        await Expect(card.Locator(".snapshot-meta")).ToContainTextAsync("ended: cancelled", new() { Timeout = 15_000 });
        await Expect(cancel).ToBeHiddenAsync();
        await Expect(card.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        Assert.Equal(3, prompts.Count);
        var p = await host.PipelineAsync("shop");
        Assert.Equal("running", p.GetProperty("state").GetString());
        Assert.False(p.GetProperty("snapshot").GetProperty("active").GetBoolean());
        Assert.InRange(p.GetProperty("snapshot").GetProperty("tables")[0].GetProperty("rows").GetInt64(), 1, 99_999);
        db.Sql("INSERT INTO big VALUES (100001, 'after');", database);
        await host.WaitForAsync("shop", _ => host.Output("shop").Any(l => l.Contains("\"after\"", StringComparison.Ordinal)), "the row written after the cancel");
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task The_dashboard_says_connecting_until_data_fits_420_px_shows_UTC_times_and_a_rejected_save_in_warning_colour()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (Debian package chromium)");
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(10,2));");
        var broken = ApiTestHost.PipelineYaml(db, "archive", database).Replace("ssl: none }", "ssl: none, start: { file: mysql-bin.999999, pos: 4 } }");
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "orders", database, extra: "    transform: orders.csx") + broken);
        var script = Path.Combine(dir, "orders.csx");
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) => e;\n");
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
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 420, Height = 800 } });

        // Before the first data: "connecting…", not "No pipelines yet." (the feed is held back here).
        await page.RouteAsync("**/stream", route => route.AbortAsync());
        await page.GotoAsync(host.Http.BaseAddress!.ToString());
        await Expect(page.Locator("#empty")).ToHaveTextAsync("connecting…");
        await page.UnrouteAsync("**/stream");
        await page.ReloadAsync();
        var orders = page.Locator("section.card[data-pipeline='orders']");
        var archive = page.Locator("section.card[data-pipeline='archive']");
        await Expect(orders.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        await Expect(page.Locator("#empty")).ToBeHiddenAsync();

        // 420 px wide: nothing wider than the window (no sideways scrolling), each card within it.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 420"),
            "the page is wider than 420 px: " + await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"));
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('section.card')].every(c => c.getBoundingClientRect().right <= 420)"));

        // Times in ISO 8601, UTC.
        await Expect(archive.Locator(".error-at")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^· \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"));

        // A save that does not compile: its error in the warning colour, while a plain warning does not.
        var diagnostics = orders.Locator(".diagnostics");
        const string Color = "e => getComputedStyle(e).color";
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) { int unused; return e; }\n");
        await Expect(diagnostics).ToContainTextAsync("warning CS0168", new() { Timeout = 30_000 });
        Assert.NotEqual("rgb(180, 83, 9)", await diagnostics.EvaluateAsync<string>(Color));
        File.WriteAllText(script, "ChangeEvent Transform(ChangeEvent e) => nope;\n");
        await Expect(diagnostics).ToContainTextAsync("error CS0103", new() { Timeout = 30_000 });
        Assert.Equal("rgb(180, 83, 9)", await diagnostics.EvaluateAsync<string>(Color));
        await Expect(orders.Locator(".state")).ToHaveTextAsync("running");

        var shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "dashboard-420px.png"), FullPage = true });
    }

    [Fact]
    public async Task The_charts_have_time_and_value_axes_and_the_counts_per_table_show_at_420_px()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (Debian package chromium)");
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE orders (id INT PRIMARY KEY); CREATE TABLE items (id INT PRIMARY KEY);");
        await using var host = await ApiTestHost.StartNewAsync(ApiTestHost.PipelineYaml(db, "shop", database));
        await host.WaitForStateAsync("shop", "running");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 420, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add(m.Text); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        await page.GotoAsync(host.Http.BaseAddress!.ToString());
        var card = page.Locator("section.card[data-pipeline='shop']");
        await Expect(card.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        await Expect(card.Locator(".per-table")).ToBeHiddenAsync(); // nothing read yet

        // A few seconds of rows into two tables: 4 × 3 into orders, 4 × 2 into items.
        for (var i = 0; i < 4; i++)
        {
            db.Sql($"INSERT INTO orders VALUES ({i * 10 + 1}),({i * 10 + 2}),({i * 10 + 3}); INSERT INTO items VALUES ({i * 10 + 1}),({i * 10 + 2});", database);
            await Task.Delay(700);
        }
        await Expect(card.Locator(".events-out")).ToHaveTextAsync("20", new() { Timeout = 15_000 });
        var orders = card.Locator($".per-table tr[data-table='{database}.orders']");
        var items = card.Locator($".per-table tr[data-table='{database}.items']");
        await Expect(orders.Locator(".in")).ToHaveTextAsync("12");
        await Expect(orders.Locator(".out")).ToHaveTextAsync("12");
        await Expect(items.Locator(".in")).ToHaveTextAsync("8");
        await Expect(items.Locator(".out")).ToHaveTextAsync("8");
        await Expect(card.Locator(".per-table tbody tr")).ToHaveCountAsync(2);

        // Both charts: axes, time labels (HH:MM, UTC, every 5 minutes over the last 15), value labels (0, half, top), a line.
        foreach (var name in new[] { "eps", "lag" })
        {
            var svg = card.Locator($".chart-{name} svg");
            await Expect(svg.Locator("line.x-axis")).ToHaveCountAsync(1);
            await Expect(svg.Locator("line.y-axis")).ToHaveCountAsync(1);
            await Expect(svg.Locator("text.y-label")).ToHaveCountAsync(3);
            await Expect(svg.Locator("text.y-label").First).ToHaveTextAsync("0");
            await Expect(svg.Locator("polyline.series")).ToHaveCountAsync(1);
            var before = DateTime.UtcNow;
            var labels = await svg.Locator("text.x-label").AllTextContentsAsync();
            var after = DateTime.UtcNow;
            Assert.InRange(labels.Count, 2, 4);
            Assert.All(labels, l => Assert.Matches(@"^\d{2}:\d{2}$", l));
            static string Slot(DateTime t) => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute / 5 * 5, 0, DateTimeKind.Utc).ToString("HH:mm");
            Assert.True(labels[^1] == Slot(before) || labels[^1] == Slot(after), $"{name}: the last time label {labels[^1]} is not now's 5 minutes in UTC ({Slot(after)})");
        }
        // The events/s line rose above 0 while rows came: its top value label is above 0 and the line has seconds of points.
        var top = await card.Locator(".chart-eps svg text.y-label").Last.TextContentAsync();
        Assert.True(double.Parse(top!.TrimEnd('k', 'M'), System.Globalization.CultureInfo.InvariantCulture) > 0);
        await page.WaitForFunctionAsync("() => document.querySelector(\"section.card[data-pipeline='shop'] .chart-eps polyline\").getAttribute('points').split(' ').length >= 5");

        // A reload starts the charts from the host's history (GET /history), not from nothing.
        await page.ReloadAsync();
        await Expect(card.Locator(".state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        Assert.True(await page.EvaluateAsync<int>("() => document.querySelector(\"section.card[data-pipeline='shop'] .chart-eps polyline\").getAttribute('points').split(' ').length") >= 5,
            "the chart did not start from the host's history");

        // 420 px wide: the charts and the table fit.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 420"),
            "the page is wider than 420 px: " + await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"));
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('.chart svg')].every(s => s.getBoundingClientRect().right <= 420 && s.getBoundingClientRect().width > 150)"));
        var shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "dashboard-charts-420px.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot}");
        Assert.Empty(consoleErrors);
    }
}
