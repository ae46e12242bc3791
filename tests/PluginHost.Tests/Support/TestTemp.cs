namespace PluginHost.Tests;

/// <summary>
/// Temp directories for tests, all under one folder per test run that is deleted when the run ends, so tests that
/// keep their directory (for a failure's evidence while running) leave nothing behind.
/// </summary>
public static class TestTemp
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var root = Directory.CreateTempSubdirectory($"pluginhost-tests-{Environment.ProcessId}-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    /// <summary>A new empty directory whose name starts with <paramref name="prefix"/>.</summary>
    public static DirectoryInfo CreateSubdirectory(string prefix) =>
        Directory.CreateDirectory(Path.Combine(Root.Value, prefix + Guid.NewGuid().ToString("N")[..10]));
}
