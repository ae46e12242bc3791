using System.Diagnostics;
using PluginHost.Scripting;
using static PluginHost.Tests.Scripting.JavaScript.JsTestKit;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>
/// What Jint's time limit cannot stop: a helper function (a .NET call) that blocks is reported stuck naming the rule and
/// the helper, and the event fails with a timeout once it returns; a regular expression runs no longer than the limit.
/// </summary>
public sealed class JavaScriptHelperTimeTests
{
    private const string SlowHelpers = """
        namespace TestHelpers;
        [PluginHost.Sdk.HelperFunctions]
        public static class Functions
        {
            public static string tSleep(string s, int ms) { System.Threading.Thread.Sleep(ms); return s; }
        }
        """;

    [Fact]
    public void A_helper_call_past_the_limit_fails_the_event_with_a_timeout_naming_the_helper_and_the_next_event_runs()
    {
        // The helper's call is the last thing the event runs: no statement after it where Jint would check its limit.
        using var t = Native("function transform(e) { return tSleep('x', e.after.id === 1 ? 400 : 0) ? e : null; }",
            new TestHelperSource(SlowHelpers), TimeSpan.FromMilliseconds(100), "transforms/slow.js");
        var e = Assert.Throws<TransformTimeoutException>(() => Run(t, Update(1, "a")));
        Assert.StartsWith("transform exceeded its time limit of 0.1 s: helper function tSleep ran over 0.", e.Message);
        Assert.EndsWith(" (transforms/slow.js)", e.Message);
        Assert.Single(Run(t, Update(2, "a")));
    }

    [Fact]
    public async Task A_helper_call_that_blocks_is_reported_stuck_naming_the_rule_and_the_helper_then_recovered()
    {
        using var t = Rules(new TestHelperSource(SlowHelpers), TimeSpan.FromMilliseconds(100),
            Rule("mask", "function transform(c) { c.after[0].text_col = tSleep(c.after[0].text_col, c.after[0].id === 1 ? 5000 : 0); }"));
        string? stuck = null;
        var recovered = false;
        t.Stuck = m => stuck = m;
        t.Recovered = () => recovered = true;
        var run = Task.Run(() => Run(t, Update(1, "a")));
        var clock = Stopwatch.StartNew();
        while (stuck is null && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        // (the call blocks 5 s: the report comes after limit + 1 s, later on a loaded machine, while it still blocks)
        Assert.False(run.IsCompleted, "the call returned before it was reported stuck");
        Assert.NotNull(stuck); // after limit + 1 s, while it still runs
        Assert.StartsWith("transform mask (inline) is stuck in helper function tSleep (plugin TestHelpers): one event has waited ", stuck);
        Assert.Matches(@"one event has waited [1-4](\.[0-9]+)? s for it", stuck);
        Assert.Contains("a .NET call cannot be interrupted", stuck);
        Assert.False(recovered);
        var e = await Assert.ThrowsAsync<TransformTimeoutException>(() => run);
        Assert.Contains("helper function tSleep", e.Message);
        Assert.True(recovered);
        Assert.Equal("a!", Run(t, Update(2, "a"))[0].After!["text_col"]);
    }

    [Fact]
    public void A_regular_expression_that_backtracks_forever_stops_at_the_transform_limit()
    {
        using var t = Native("function transform(e) { if (e.after.id === 1) /^(a|aa)+$/.test('a'.repeat(60) + 'b'); return e; }",
            timeout: TimeSpan.FromMilliseconds(300), path: "transforms/regex.js");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<TransformTimeoutException>(() => Run(t, Update(1, "a")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed} (Jint's own regex limit is 10 s)");
        Assert.StartsWith("transform exceeded its time limit of 0.3 s", e.Message);
        Assert.Single(Run(t, Update(2, "a")));
    }
}
