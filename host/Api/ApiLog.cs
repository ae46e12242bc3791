using Microsoft.Extensions.Logging;
using PluginHost.Logging;

namespace PluginHost.Api;

/// <summary>The log lines of the Api room (event ids 7000-7999).</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventIds.ApiListening, LogLevel.Information, "REST API, health, metrics and dashboard on {Urls}; changes need Authorization: Bearer <server.admin_token>")]
    public static partial void Listening(this ILogger logger, string urls);

    [LoggerMessage(EventIds.ApiListeningWithGeneratedToken, LogLevel.Warning,
        "REST API, health, metrics and dashboard on {Urls} (loopback only); generated an admin token at first start into {TokenFile} " +
        "(mode 0600): changes need Authorization: Bearer <the token in that file>, the dashboard asks for it")]
    public static partial void ListeningWithGeneratedToken(this ILogger logger, string urls, string? tokenFile);

    [LoggerMessage(EventIds.ApiListeningWithTokenFile, LogLevel.Information,
        "REST API, health, metrics and dashboard on {Urls} (loopback only); changes need Authorization: Bearer <the token in {TokenFile}>")]
    public static partial void ListeningWithTokenFile(this ILogger logger, string urls, string? tokenFile);

    [LoggerMessage(EventIds.ApiListeningUnauthenticated, LogLevel.Warning,
        "REST API, health, metrics and dashboard on {Urls}; server.admin_token is \"\" and server.allow_unauthenticated_admin is true: " +
        "the API listens on loopback only and ANY local user may change pipelines without a token")]
    public static partial void ListeningUnauthenticated(this ILogger logger, string urls);

    [LoggerMessage(EventIds.ApiPipelineWatchFailed, LogLevel.Debug, "pipeline watch failed: {Error}")]
    public static partial void PipelineWatchFailed(this ILogger logger, string error);

    /// <summary>A pipeline's first state (Error when failed, else Information).</summary>
    [LoggerMessage(EventId = EventIds.ApiPipelineState, Message = "pipeline {Pipeline}: {State}{Reason}")]
    public static partial void PipelineState(this ILogger logger, LogLevel level, string pipeline, string state, string reason);

    /// <summary>A pipeline's change of state (Error when failed, else Information).</summary>
    [LoggerMessage(EventId = EventIds.ApiPipelineStateChange, Message = "pipeline {Pipeline}: {From} → {State}{Reason}")]
    public static partial void PipelineStateChange(this ILogger logger, LogLevel level, string pipeline, string from, string state, string reason);

    [LoggerMessage(EventIds.ApiPipelineRemoved, LogLevel.Information, "pipeline {Pipeline}: {From} → removed")]
    public static partial void PipelineRemoved(this ILogger logger, string pipeline, object? from);
}
