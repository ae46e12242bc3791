using Microsoft.Extensions.Logging;

namespace PluginHost.Api;

/// <summary>
/// Until the host has started, the generic host's own "Hosting failed to start" error (the exception with its whole
/// stack) is not logged: <c>pluginhost run</c> reports a <c>server.listen</c> it cannot bind in one plain line, and
/// any other start failure still ends the process with its exception. Afterwards the category logs as before
/// (warnings and errors, never below <c>log.level</c>).
/// </summary>
internal sealed class QuietStartFailure
{
    private const string Category = "Microsoft.Extensions.Hosting.Internal.Host";
    private volatile bool _started;

    public void AddTo(ILoggingBuilder logging, LogLevel floor) =>
        logging.AddFilter(Category, level => level >= floor && (_started || level < LogLevel.Error));

    public void Started() => _started = true;
}
