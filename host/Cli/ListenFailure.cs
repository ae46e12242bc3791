using System.Net.Sockets;

namespace PluginHost.Cli;

/// <summary>Kestrel's failure to bind <c>server.listen</c>, in plain words.</summary>
internal static class ListenFailure
{
    /// <summary>Why the API could not listen on <paramref name="listen"/>, or null when <paramref name="e"/> is not a bind failure.</summary>
    public static string? Describe(IOException e, string listen)
    {
        if (!e.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal)) return null;
        for (Exception? inner = e; inner != null; inner = inner.InnerException)
        {
            if (inner.GetType().Name == "AddressInUseException" || inner is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                return $"cannot listen on {listen}: the address is already in use (another pluginhost or program listens there); choose another port or stop that program";
            if (inner is SocketException { SocketErrorCode: SocketError.AccessDenied })
                return $"cannot listen on {listen}: not allowed (ports below 1024 need privileges); choose another port";
            if (inner is SocketException { SocketErrorCode: SocketError.AddressNotAvailable })
                return $"cannot listen on {listen}: this machine has no such address";
        }
        return $"cannot listen on {listen}: {e.Message}";
    }
}
