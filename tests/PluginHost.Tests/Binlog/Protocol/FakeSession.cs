using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>One scripted client connection as seen by the fake server.</summary>
internal sealed class FakeSession(Stream stream)
{
    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The connection: the socket stream, or the TLS stream after <see cref="StartTlsAsync"/>.</summary>
    public Stream Stream { get; private set; } = stream;

    /// <summary>Runs the server side of a TLS handshake (after the client's SSLRequest); later packets travel encrypted.</summary>
    public async Task StartTlsAsync(X509Certificate2 certificate)
    {
        var ssl = new SslStream(Stream, leaveInnerStreamOpen: true);
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token);
        Stream = ssl;
    }

    /// <summary>Sends one physical packet with the given sequence id.</summary>
    public Task SendAsync(byte sequence, byte[] payload) => SendAsync(sequence, payload.AsMemory());

    /// <summary>Sends one physical packet with the given sequence id.</summary>
    public async Task SendAsync(byte sequence, ReadOnlyMemory<byte> payload)
    {
        byte[] header = [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence];
        await Stream.WriteAsync(header);
        await Stream.WriteAsync(payload);
        await Stream.FlushAsync();
    }

    /// <summary>Receives one physical packet.</summary>
    public async Task<(byte Sequence, byte[] Payload)> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        byte[] header = new byte[4];
        await Stream.ReadExactlyAsync(header, timeout.Token);
        int length = header[0] | (header[1] << 8) | (header[2] << 16);
        byte[] payload = new byte[length];
        await Stream.ReadExactlyAsync(payload, timeout.Token);
        return (header[3], payload);
    }

    /// <summary>Receives one packet and checks its sequence id.</summary>
    public async Task<byte[]> ReceiveAsync(byte expectedSequence)
    {
        (byte sequence, byte[] payload) = await ReceiveAsync();
        Assert.Equal(expectedSequence, sequence);
        return payload;
    }

    /// <summary>Returns true when the client closed the connection (reads until EOF, ignoring a COM_QUIT).</summary>
    public async Task<bool> WaitForCloseAsync()
    {
        byte[] buffer = new byte[64];
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        try
        {
            while (await Stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
