using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>
/// A scripted in-process "server" on a loopback socket: accepts one client and runs a script that sends
/// and receives raw packets. Framing is implemented here independently of the code under test.
/// </summary>
internal sealed class FakeMySqlServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _completion;

    public FakeMySqlServer(Func<FakeSession, Task> script)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _completion = RunAsync(script);
    }

    public int Port { get; }

    /// <summary>Waits for the script to finish and rethrows its assertion failures.</summary>
    public async Task CompleteAsync()
    {
        Task finished = await Task.WhenAny(_completion, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(finished == _completion, "The fake server script did not finish in time.");
        await _completion;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Reported by CompleteAsync when the test cares.
        }
    }

    private async Task RunAsync(Func<FakeSession, Task> script)
    {
        using Socket socket = await _listener.AcceptSocketAsync();
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await script(new FakeSession(stream));
    }
}

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

/// <summary>Builders for server packets.</summary>
internal static class FakePackets
{
    public const uint MySql8Capabilities =
        0x00000001 | 0x00000004 | 0x00000008 | 0x00000200 | 0x00002000 | 0x00008000 | 0x00010000 | 0x00020000
        | 0x00080000 | 0x00200000 | 0x01000000;

    /// <summary>A handshake v10 packet.</summary>
    public static byte[] Handshake(string version, uint connectionId, byte[] scramble20, uint capabilities, string pluginName, uint mariaDbExtended = 0, ushort status = 2)
    {
        var b = new List<byte> { 10 };
        b.AddRange(Encoding.ASCII.GetBytes(version));
        b.Add(0);
        b.AddRange(LE32(connectionId));
        b.AddRange(scramble20.AsSpan(0, 8).ToArray());
        b.Add(0);
        b.AddRange(LE16((ushort)capabilities));
        b.Add(45);
        b.AddRange(LE16(status));
        b.AddRange(LE16((ushort)(capabilities >> 16)));
        b.Add(21);
        b.AddRange(new byte[6]);
        b.AddRange(LE32(mariaDbExtended));
        b.AddRange(scramble20.AsSpan(8, 12).ToArray());
        b.Add(0);
        b.AddRange(Encoding.ASCII.GetBytes(pluginName));
        b.Add(0);
        return b.ToArray();
    }

    public static byte[] Ok(ushort status = 2, byte header = 0x00) => [header, 0, 0, (byte)status, (byte)(status >> 8), 0, 0];

    public static byte[] Eof(ushort status = 2) => [0xFE, 0, 0, (byte)status, (byte)(status >> 8)];

    public static byte[] Error(ushort code, string sqlState, string message)
    {
        var b = new List<byte> { 0xFF };
        b.AddRange(LE16(code));
        b.Add((byte)'#');
        b.AddRange(Encoding.ASCII.GetBytes(sqlState));
        b.AddRange(Encoding.UTF8.GetBytes(message));
        return b.ToArray();
    }

    public static byte[] ColumnDefinition(string name)
    {
        var b = new List<byte>();
        void Lenenc(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            b.Add((byte)bytes.Length);
            b.AddRange(bytes);
        }

        Lenenc("def");
        Lenenc("");
        Lenenc("");
        Lenenc("");
        Lenenc(name);
        Lenenc("");
        b.Add(0x0C);
        b.AddRange(LE16(45));
        b.AddRange(LE32(21));
        b.Add(0xFD);
        b.AddRange(LE16(0));
        b.Add(0);
        b.AddRange(LE16(0));
        return b.ToArray();
    }

    /// <summary>A text row; null values become 0xFB.</summary>
    public static byte[] Row(params string?[] values)
    {
        var b = new List<byte>();
        foreach (string? value in values)
        {
            if (value is null)
            {
                b.Add(0xFB);
                continue;
            }

            byte[] bytes = Encoding.UTF8.GetBytes(value);
            b.Add((byte)bytes.Length);
            b.AddRange(bytes);
        }

        return b.ToArray();
    }

    public static byte[] LE16(ushort v)
    {
        byte[] r = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(r, v);
        return r;
    }

    public static byte[] LE32(uint v)
    {
        byte[] r = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(r, v);
        return r;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
