using PluginHost.Checkpoints;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Pipelines;

/// <summary>The checkpoint file keeps the time of the newest delivered change; files written before it existed still load.</summary>
public sealed class CheckpointFileFormatTests
{
    [Fact]
    public async Task Last_event_time_round_trips_and_an_older_file_without_it_loads_with_null()
    {
        var store = new FileCheckpointStore(TestTemp.CreateSubdirectory("pluginhost-cpfile-").FullName);
        var at = DateTimeOffset.FromUnixTimeSeconds(1_800_000_123);
        await store.SaveAsync("p", new Checkpoint("mysql-bin.000003", 1234, "0-1-9", DateTimeOffset.UtcNow, 42, at), CancellationToken.None);
        Assert.Contains("\"last_event_time\":", await File.ReadAllTextAsync(store.PathOf("p")));
        Assert.Equal(at, (await store.LoadAsync("p", CancellationToken.None))!.LastEventTime);

        // As an earlier version wrote it.
        await File.WriteAllTextAsync(store.PathOf("old"), """
            {
              "file": "mysql-bin.000002",
              "position": 4567,
              "gtid": null,
              "updated_at": "2026-11-20T09:00:00+00:00",
              "events_delivered": 7
            }
            """);
        var old = await store.LoadAsync("old", CancellationToken.None);
        Assert.Equal(new Checkpoint("mysql-bin.000002", 4567, null, DateTimeOffset.Parse("2026-11-20T09:00:00+00:00"), 7, null), old);
    }
}
