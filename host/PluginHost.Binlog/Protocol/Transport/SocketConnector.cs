using System.Net;
using System.Net.Sockets;

namespace PluginHost.Binlog.Protocol.Transport;

/// <summary>Resolves the host and opens the TCP connection, with errors that name host:port.</summary>
internal static class SocketConnector
{
    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>, trying every resolved address in order.</summary>
    /// <param name="host">Host name or IP address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="endpoint">"host:port" for messages.</param>
    /// <param name="cancellationToken">Cancellation (the caller links the connect timeout into it).</param>
    /// <exception cref="MySqlConnectionException">DNS failure, refusal or other socket error.</exception>
    public static async Task<Socket> ConnectAsync(string host, int port, string endpoint, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        string literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(literal, out IPAddress? address))
        {
            addresses = [address];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new MySqlConnectionException(
                    $"Could not resolve the host name '{host}' (connecting to {endpoint}): {ex.Message}. Check the configured host.", ex);
            }

            if (addresses.Length == 0)
            {
                throw new MySqlConnectionException($"The host name '{host}' resolved to no address (connecting to {endpoint}). Check the configured host.");
            }
        }

        SocketException? lastError = null;
        foreach (IPAddress candidate in addresses)
        {
            var socket = new Socket(candidate.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(candidate, port), cancellationToken).ConfigureAwait(false);
                socket.NoDelay = true;
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                lastError = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw CreateConnectError(lastError!, endpoint, addresses);
    }

    private static MySqlConnectionException CreateConnectError(SocketException error, string endpoint, IPAddress[] addresses)
    {
        string tried = addresses.Length == 1 ? addresses[0].ToString() : string.Join(", ", (IEnumerable<IPAddress>)addresses);
        string reason = error.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "the connection was refused; is the MySQL/MariaDB server running and listening on that port, and is the port correct?",
            SocketError.TimedOut => "the connection attempt timed out; check the host, the port and firewalls.",
            SocketError.HostUnreachable or SocketError.NetworkUnreachable => "the host is unreachable; check the host and the network.",
            _ => $"{error.Message} ({error.SocketErrorCode}).",
        };
        return new MySqlConnectionException($"Could not connect to {endpoint} (address {tried}): {reason}", error, error.SocketErrorCode == SocketError.TimedOut);
    }
}
