using System.IO.Compression;
using System.Runtime.CompilerServices;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Values;

namespace PluginHost.Cli;

/// <summary><c>pluginhost decode FILE...</c>: prints one JSON object per changed row of binlog files.</summary>
internal static class DecodeCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter error)
    {
        if (args.Count == 0 || args.Any(a => a is "-h" or "--help"))
        {
            error.WriteLine("usage: pluginhost decode FILE... (gzip files ending in .gz are read as well)");
            return args.Count == 0 ? 2 : 0;
        }
        using var stdout = Console.OpenStandardOutput();
        using var buffered = new BufferedStream(stdout, 1 << 16);
        var failed = false;
        foreach (var path in args)
        {
            try
            {
                Decode(path, buffered);
            }
            catch (Exception e) when (e is BinlogFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                buffered.Flush();
                error.WriteLine($"pluginhost decode: {path}: {e.Message}");
                failed = true;
            }
        }
        buffered.Flush();
        return failed ? 1 : 0;
    }

    /// <summary>Decodes one file (plain or .gz) and writes its rows as JSON lines to <paramref name="output"/>.</summary>
    public static void Decode(string path, Stream output)
    {
        Stream stream = File.OpenRead(path);
        var name = Path.GetFileName(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
            name = name[..^3];
        }
        using var reader = new BinlogFileReader(stream, name, ownsStream: true);
        var rowWriter = new RowJsonWriter(output, name);
        try
        {
            Loop(reader, rowWriter);
        }
        finally
        {
            // The rows of the events before a fault are printed.
            rowWriter.Flush();
        }
    }

    /// <summary>Plain rows events are decoded into one reused batch, written before the next event is read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop(BinlogFileReader reader, RowJsonWriter rowWriter)
    {
        var decoder = reader.Decoder;
        var batch = new RowBatch();
        while (true)
        {
            var raw = reader.NextSegment();
            if (raw.Count == 0) return;
            if (decoder.TryDecodeRows(raw, batch)) rowWriter.Write(batch);
            else rowWriter.Handle(decoder.Decode(raw));
        }
    }
}
