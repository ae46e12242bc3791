using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Pipelines;

/// <summary>The file sink's acknowledgements: lines readable at once, acknowledged after an fsync shared by the batches that wait for it.</summary>
public sealed class FileSinkTests : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-filesink-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static ChangeEvent Event(int id) => new()
    {
        Op = ChangeOperation.Insert, Database = "db", Table = "t", After = new Row { ["id"] = (long)id },
        Gtid = $"0-1-{id}", File = "mysql-bin.000001", Position = 4 + id, Timestamp = DateTimeOffset.UnixEpoch, TransactionId = $"0-1-{id}",
    };

    [Fact]
    public async Task Batches_are_readable_when_handed_over_and_acknowledged_after_fsyncs_they_share()
    {
        var path = Path.Combine(_dir, "out.jsonl");
        await using var sink = new FileSink(path);
        // The pipeline hands the next batch over without waiting for the disk: the sink acknowledges on its own.
        var acking = Assert.IsAssignableFrom<IAcknowledgingSink>(sink);
        const int Batches = 2000;
        var acks = new List<Task>(Batches);
        for (var i = 1; i <= Batches; i++)
        {
            acks.Add(await acking.SendAsync([Event(i)], default));
            if (i == 1) Assert.Single(File.ReadAllLines(path)); // readable at once, before any fsync returned
        }
        await Task.WhenAll(acks).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Batches, File.ReadAllLines(path).Length);
        // Every acknowledgement waited for an fsync, and batches that came while one ran shared the next (group commit).
        Assert.InRange(sink.Syncs, 1, Batches - 1);
    }

    [Fact]
    public async Task Without_fsync_batches_are_acknowledged_when_written()
    {
        var path = Path.Combine(_dir, "nosync.jsonl");
        await using var sink = new FileSink(path, fsync: false);
        var ack = await sink.SendAsync([Event(1), Event(2)], default);
        Assert.True(ack.IsCompletedSuccessfully);
        Assert.Equal(0, sink.Syncs);
        Assert.Equal(2, File.ReadAllLines(path).Length);
    }
}
