using PluginHost.Sdk;

namespace PluginHost.Sinks;

/// <summary>The built-in <c>file</c> sink: <c>sink: { type: file, path: out/events.jsonl }</c> (<c>path: "-"</c> for stdout).</summary>
internal sealed class FileSinkFactory : ISinkFactory, ISinkSettingsCheck
{
    public string Type => "file";

    public ISink Create(SinkContext context)
    {
        var (path, options) = Settings(context);
        var sink = new FileSink(path, options.Fsync);
        if (sink.Foreign)
            context.Logger.Warning($"file sink: {path} was not created by this sink (no {FileSinkMarker.Suffix} marker beside it): events are appended, " +
                                   "and a line torn by a crash is not repaired; start a new file to have it repaired");
        return sink;
    }

    /// <summary>The path checked as <see cref="Create"/> checks it; an existing file must be writable (opened, not written).</summary>
    public void Check(SinkContext context)
    {
        var (path, _) = Settings(context);
        if (path == "-" || !File.Exists(path)) return;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SinkConfigurationException("path", $"{path} cannot be written: {e.Message}");
        }
    }

    private static (string Path, FileSinkOptions Options) Settings(SinkContext context)
    {
        var options = context.Bind<FileSinkOptions>();
        if (string.IsNullOrWhiteSpace(options.Path)) throw new SinkConfigurationException("path", "is required (a .jsonl file, or - for stdout)");
        return (options.Path == "-" ? "-" : context.ResolvePath("path", options.Path), options);
    }
}
