namespace PluginHost.Tests.Support;

/// <summary>The rooms' short form of <see cref="Poll"/>: wait for a condition, failing with what was awaited.</summary>
internal static class Wait
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => Poll.UntilAsync(condition, timeout, () => what);

    /// <summary>Polls every 20 ms until <paramref name="condition"/> holds; fails with <paramref name="describe"/> (evaluated then) after the timeout.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null) =>
        Poll.UntilAsync(condition, timeout, () => describe?.Invoke() ?? "the condition", 20);
}
