using System.Globalization;
using System.Net;

namespace PluginHost.Plugins.Webhook;

/// <summary>The outcome of one request.</summary>
internal readonly record struct AttemptResult(bool Success, bool Permanent, int Status, string Error, TimeSpan? RetryAfter)
{
    public static AttemptResult Ok(int status) => new(true, false, status, "", null);
}

/// <summary>Which failures are retried, and how long to wait: exponential backoff with jitter, Retry-After honoured.</summary>
internal sealed class RetryPolicy(int maxRetries, TimeSpan baseDelay, TimeSpan maxDelay)
{
    /// <summary>Longest Retry-After we wait for (a bigger one is capped here).</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(1);

    public int MaxRetries => maxRetries;

    /// <summary>
    /// Classifies an HTTP status: 2xx succeeds; 429 and 503 are retried after their Retry-After; 408 (request
    /// timeout) and every other status (5xx, 1xx) are retried; other 4xx and 3xx (redirects are not followed for a
    /// POST) are permanent.
    /// </summary>
    public static AttemptResult Classify(int status, string reason, string? retryAfter, DateTimeOffset now)
    {
        if (status is >= 200 and < 300) return AttemptResult.Ok(status);
        var error = $"HTTP {status}{(string.IsNullOrEmpty(reason) ? "" : " " + reason)}";
        TimeSpan? after = status is 429 or 503 ? ParseRetryAfter(retryAfter, now) : null;
        var permanent = status is >= 400 and < 500 && status is not (408 or 429) || status is >= 300 and < 400;
        return new AttemptResult(false, permanent, status, error, after);
    }

    /// <summary>Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable.</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            return seconds <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(seconds, MaxRetryAfter.TotalSeconds));
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var d = date - now;
            return d <= TimeSpan.Zero ? TimeSpan.Zero : d > MaxRetryAfter ? MaxRetryAfter : d;
        }
        return null;
    }

    /// <summary>
    /// The wait before attempt <paramref name="failedAttempts"/> + 1: Retry-After when the server gave one, else
    /// <c>min(retry_max_delay, retry_base_delay × 2^(n-1))</c> with "equal jitter" (a random point in its upper half).
    /// </summary>
    public TimeSpan Delay(int failedAttempts, TimeSpan? retryAfter)
    {
        if (retryAfter is { } ra) return ra;
        var exponent = Math.Min(Math.Max(failedAttempts - 1, 0), 30);
        var ms = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        ms = ms / 2 + Random.Shared.NextDouble() * ms / 2;
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>True when an event that failed <paramref name="attempts"/> times may be given up (dead-lettered).</summary>
    public bool Exhausted(int attempts, bool permanent) => permanent || attempts > maxRetries;

    public static string Describe(Exception? e, string? message)
    {
        var inner = e;
        while (inner?.InnerException != null && inner is HttpRequestException or TaskCanceledException or WebException) inner = inner.InnerException;
        return inner?.Message ?? message ?? "request failed";
    }
}
