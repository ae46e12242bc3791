using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;

namespace PluginHost.Cli;

/// <summary><c>pluginhost decode FILE...</c>: prints one JSON object per changed row of binlog files.</summary>
internal static class DecodeCommand
{
    /// <summary>Runs the command; errors go to <paramref name="error"/> (standard error when null, opened only if needed).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter? error = null)
    {
        var started = Stopwatch.GetTimestamp();
        var paths = new List<string>(args.Count);
        var stats = false;
        foreach (var a in args)
        {
            if (a is "-h" or "--help") return Usage(error, 0);
            if (a == "--stats") stats = true;
            else paths.Add(a);
        }
        if (paths.Count == 0) return Usage(error, 2);
        using var stdout = Console.OpenStandardOutput();
        var failed = false;
        long rows = 0;
        foreach (var path in paths)
        {
            try
            {
                rows += Decode(path, stdout);
            }
            catch (Exception e) when (e is BinlogFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                (error ?? Console.Error).WriteLine($"pluginhost decode: {path}: {e.Message}");
                failed = true;
            }
        }
        if (stats) DecodeStats.Print(error ?? Console.Error, rows, started);
        return failed ? 1 : 0;
    }

    private static int Usage(TextWriter? error, int exitCode)
    {
        (error ?? Console.Error).WriteLine("usage: pluginhost decode FILE... [--stats] (gzip files ending in .gz are read as well; --stats: timings on standard error)");
        return exitCode;
    }

    /// <summary>Decodes one file (plain or .gz) and writes its rows as JSON lines to <paramref name="output"/>; returns
    /// the number of rows.</summary>
    public static long Decode(string path, Stream output)
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
        return rowWriter.Rows;
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
