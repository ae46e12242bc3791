using System.Diagnostics;

namespace PluginHost.Tests.Support;

/// <summary>
/// The one way tests wait: poll a condition until it holds, or fail after the timeout saying what was awaited (and,
/// where given, what was seen instead). The room-specific helpers (<c>Kit.WaitUntil</c>, <c>Wait.UntilAsync</c>, …)
/// only adapt their arguments to it.
/// </summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> what, int intervalMs = 25)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what()}");
            await Task.Delay(intervalMs);
        }
    }
}
