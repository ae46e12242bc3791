namespace PluginHost.Scripting;

/// <summary>Reads a script file that an editor may be replacing at that moment.</summary>
internal static class ScriptText
{
    public static string Read(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
                return reader.ReadToEnd();
            }
            catch (IOException) when (attempt < 4 && File.Exists(path))
            {
                Thread.Sleep(25 * attempt); // being replaced
            }
        }
    }
}
