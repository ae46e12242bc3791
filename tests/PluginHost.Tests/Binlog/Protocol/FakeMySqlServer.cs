using System.Net;
using System.Net.Sockets;

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
