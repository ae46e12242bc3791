using System.Runtime.InteropServices;
using System.Text.Json;

namespace PluginHost.Checkpoints;

/// <summary>
/// One JSON file per pipeline under the state directory (<c>NAME.checkpoint.json</c>), replaced atomically:
/// written to a temp file, fsync'd, renamed over the old one, and the directory fsync'd.
/// </summary>
internal sealed partial class FileCheckpointStore(string directory) : ICheckpointStore
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public string Directory { get; } = directory;

    public string PathOf(string pipeline) => Path.Combine(Directory, pipeline + ".checkpoint.json");

    public async Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken cancellationToken)
    {
        var path = PathOf(pipeline);
        if (!File.Exists(path)) return null;
        try
        {
            await using var s = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<Checkpoint>(s, Json, cancellationToken).ConfigureAwait(false)
                   ?? throw new InvalidDataException("empty checkpoint");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"checkpoint file {path} is corrupt ({e.Message}); fix or delete it to start over", e);
        }
    }

    public async Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(pipeline);
        var temp = path + ".tmp";
        await using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            await JsonSerializer.SerializeAsync(s, checkpoint, Json, cancellationToken).ConfigureAwait(false);
            await s.FlushAsync(cancellationToken).ConfigureAwait(false);
            s.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        SyncDirectory(Directory);
    }

    public Task DeleteAsync(string pipeline, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(pipeline));
        return Task.CompletedTask;
    }

    /// <summary>fsync of a directory so a rename survives power loss (POSIX only; a no-op elsewhere).</summary>
    internal static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { _ = Fsync(fd); } finally { _ = Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
