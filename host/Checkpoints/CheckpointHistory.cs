using System.Collections.Concurrent;
using System.Text.Json;

namespace PluginHost.Checkpoints;

/// <summary>One remembered position of a pipeline.</summary>
/// <param name="Id">Stable per pipeline (never reused): what <c>{"checkpoint": ID}</c> seeks back to.</param>
/// <param name="Reason"><c>saved</c> (a checkpoint the pipeline saved), <c>before seek</c> / <c>before delete</c> (the
/// checkpoint an operator's call replaced or deleted), <c>seek</c> (the position a seek saved).</param>
/// <param name="Note">What the operator asked for, e.g. <c>seek to GTID 0-1-42</c>.</param>
internal sealed record CheckpointHistoryEntry(long Id, DateTimeOffset At, string Reason, string? Note, Checkpoint Checkpoint);

/// <summary>
/// The last positions of each pipeline, so that no single call loses one: a JSON file per pipeline under the state
/// directory (<c>NAME.checkpoint-history.json</c>), beside the file checkpoint store's file, replaced atomically like
/// it. Kept by the host whatever the pipeline's checkpoint store (a plugin's store, e.g. Kafka, keeps one record per
/// pipeline). Holds the newest <see cref="SavedKept"/> <c>saved</c> entries and, apart from them, the newest
/// <see cref="ActionsKept"/> entries of operators' calls, so saves never push out a position a seek replaced.
/// </summary>
internal sealed class CheckpointHistory(string directory)
{
    public const string Saved = "saved";
    public const int SavedKept = 20;
    public const int ActionsKept = 20;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    private sealed record Document(long NextId, List<CheckpointHistoryEntry> Entries);

    public string Directory { get; } = directory;

    public string PathOf(string pipeline) => Path.Combine(Directory, pipeline + ".checkpoint-history.json");

    /// <summary>The entries, newest first (empty when there is no history).</summary>
    public async Task<IReadOnlyList<CheckpointHistoryEntry>> ListAsync(string pipeline, CancellationToken ct)
    {
        var path = PathOf(pipeline);
        var gate = Locks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var doc = await ReadAsync(path, ct).ConfigureAwait(false);
            return doc.Entries.OrderByDescending(e => e.Id).ToList();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Durably adds an entry. A <c>saved</c> one whose position equals the newest <c>saved</c> entry's is left out
    /// (null is returned): the history keeps distinct positions.
    /// </summary>
    public async Task<CheckpointHistoryEntry?> RecordAsync(string pipeline, Checkpoint checkpoint, string reason, string? note, CancellationToken ct)
    {
        var path = PathOf(pipeline);
        var gate = Locks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var doc = await ReadAsync(path, ct).ConfigureAwait(false);
            if (reason == Saved && doc.Entries.Where(e => e.Reason == Saved).MaxBy(e => e.Id) is { } newest && SamePlace(newest.Checkpoint, checkpoint))
                return null;
            var entry = new CheckpointHistoryEntry(doc.NextId, DateTimeOffset.UtcNow, reason, note, checkpoint);
            var entries = doc.Entries.Append(entry).ToList();
            var keep = entries.Where(e => e.Reason == Saved).OrderByDescending(e => e.Id).Take(SavedKept)
                .Concat(entries.Where(e => e.Reason != Saved).OrderByDescending(e => e.Id).Take(ActionsKept))
                .OrderBy(e => e.Id).ToList();
            await WriteAsync(path, new Document(doc.NextId + 1, keep), ct).ConfigureAwait(false);
            return entry;
        }
        finally
        {
            gate.Release();
        }
    }

    private static bool SamePlace(Checkpoint a, Checkpoint b) => a.File == b.File && a.Position == b.Position && a.Gtid == b.Gtid;

    private static async Task<Document> ReadAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path)) return new Document(1, []);
        try
        {
            await using var s = File.OpenRead(path);
            var doc = await JsonSerializer.DeserializeAsync<Document>(s, Json, ct).ConfigureAwait(false) ?? throw new JsonException("empty");
            return doc with { Entries = doc.Entries ?? [], NextId = Math.Max(doc.NextId, (doc.Entries?.Count > 0 ? doc.Entries.Max(e => e.Id) : 0) + 1) };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"checkpoint history {path} is corrupt ({e.Message}); fix or delete it", e);
        }
    }

    private async Task WriteAsync(string path, Document doc, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var temp = path + ".tmp";
        await using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            await JsonSerializer.SerializeAsync(s, doc, Json, ct).ConfigureAwait(false);
            await s.FlushAsync(ct).ConfigureAwait(false);
            s.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        FileCheckpointStore.SyncDirectory(Directory);
    }
}
