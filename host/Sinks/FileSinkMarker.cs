using System.Text.Json;

namespace PluginHost.Sinks;

/// <summary>
/// The file sink's proof that it created a file: a sidecar <c>FILE.pluginhost</c> written just before the file itself
/// (the JSON Lines file stays exactly what consumers read). Only a file with its marker gets the torn-line repair,
/// which may cut bytes off its end; a file the sink found already there is only appended to.
/// </summary>
internal static class FileSinkMarker
{
    public const string Suffix = ".pluginhost";

    public static string PathOf(string file) => file + Suffix;

    public static bool Exists(string file) => File.Exists(PathOf(file));

    /// <summary>Writes the marker of a file about to be created (mode 0600).</summary>
    public static void Write(string file)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(PathOf(file), options);
        using var w = new Utf8JsonWriter(stream); // (what the serializer wrote for these four strings)
        w.WriteStartObject();
        w.WriteString("created_by", "pluginhost file sink");
        w.WriteString("file", Path.GetFileName(file));
        w.WriteString("created", DateTimeOffset.UtcNow.ToString("O"));
        w.WriteString("meaning", "this sink created the file: after a crash it may cut a partly written last line off it");
        w.WriteEndObject();
    }
}
