using System.Text.Json;
using PluginHost.Checkpoints;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Pipelines;

/// <summary>
/// A checkpoint store that records, at every save, which events the sink's file holds (the sink has flushed by then):
/// <see cref="AssertNeverAhead"/> then proves no checkpoint ever passed an event that was not yet delivered.
/// </summary>
internal sealed class RecordingStore(ICheckpointStore inner, string sinkFile) : ICheckpointStore
{
    public List<(Checkpoint Checkpoint, HashSet<string> Delivered)> Saves { get; } = [];
    public int FailNextSaves;

    public Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken ct) => inner.LoadAsync(pipeline, ct);

    public async Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken ct)
    {
        lock (Saves)
            if (FailNextSaves > 0)
            {
                FailNextSaves--;
                throw new IOException("disk full");
            }
        var delivered = Kit.Lines(sinkFile).Select(Key).ToHashSet();
        lock (Saves) Saves.Add((checkpoint, delivered));
        await inner.SaveAsync(pipeline, checkpoint, ct);
    }

    public Task DeleteAsync(string pipeline, CancellationToken ct) => inner.DeleteAsync(pipeline, ct);

    /// <summary>Identity of a delivered line: its binlog place and row.</summary>
    public static string Key(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        var image = r.GetProperty(r.GetProperty("op").GetString() == "delete" ? "before" : "after");
        return $"{r.GetProperty("file").GetString()}:{r.GetProperty("pos").GetInt64()}:{r.GetProperty("op").GetString()}:{image.GetProperty("id").GetRawText()}";
    }

    /// <summary>Every event before a saved checkpoint (by the final output) was in the sink when that checkpoint was saved.</summary>
    public void AssertNeverAhead(IEnumerable<string> finalLines)
    {
        var all = finalLines.Select(l => (Key: Key(l), Event: ChangeEventJson.Parse(l))).ToList();
        lock (Saves)
        {
            Assert.NotEmpty(Saves);
            foreach (var (cp, delivered) in Saves)
            {
                var before = all.Where(x => string.CompareOrdinal(x.Event.File, cp.File) < 0 ||
                                            x.Event.File == cp.File && x.Event.Position < cp.Position).ToList();
                var missing = before.Where(x => !delivered.Contains(x.Key)).ToList();
                if (missing.Count > 0)
                    Assert.Fail($"checkpoint {cp} was saved before {missing.Count} earlier event(s) were delivered, e.g. {missing[0].Key}");
            }
        }
    }
}
