namespace PluginHost.Tests.Support;

/// <summary>What the receiver answers to one request.</summary>
public sealed record Reply(int Status = 200, string? RetryAfter = null, TimeSpan Delay = default);
